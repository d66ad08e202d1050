package data

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of a class names file (labels.txt, CIFAR's batches.meta.txt and
// fine_label_names.txt): a few kilobytes in practice.
const (
	maxClassNamesBytes = 1 << 20
	maxClassNames      = 1 << 16
	maxClassNameLen    = 256
)

// ParseClassNames reads a class names file: one name per line, in label
// order (line 1 is label 0). Surrounding white space and a UTF-8 byte
// order mark are dropped, "\r\n" line ends are accepted, and blank lines
// at the end are ignored (CIFAR's files end with some). A blank line
// before the last name, a duplicate name, invalid UTF-8, control
// characters or a byte order mark elsewhere, a name over 256 bytes and a
// file over 1 MiB are errors
// naming the file (name) and the line.
func ParseClassNames(name string, b []byte) ([]string, error) {
	if len(b) > maxClassNamesBytes {
		return nil, fmt.Errorf("data: %s: %d bytes is too large for a class names file (at most %d)", name, len(b), maxClassNamesBytes)
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	lines := strings.Split(string(b), "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("data: %s: no class names (want one per line)", name)
	}
	if len(lines) > maxClassNames {
		return nil, fmt.Errorf("data: %s: %d class names, at most %d", name, len(lines), maxClassNames)
	}
	names := make([]string, len(lines))
	seen := make(map[string]int, len(lines))
	for i, l := range lines {
		n := strings.TrimSpace(l)
		line := i + 1
		switch {
		case n == "":
			return nil, fmt.Errorf("data: %s: line %d is blank (one class name per line in label order; only blank lines at the end are allowed)", name, line)
		case !utf8.ValidString(n):
			return nil, fmt.Errorf("data: %s: line %d is not valid UTF-8", name, line)
		case len(n) > maxClassNameLen:
			return nil, fmt.Errorf("data: %s: line %d: a class name of %d bytes (at most %d)", name, line, len(n), maxClassNameLen)
		case strings.IndexFunc(n, unicode.IsControl) >= 0:
			return nil, fmt.Errorf("data: %s: line %d: class name %s holds a control character", name, line, strconv.Quote(n))
		case strings.ContainsRune(n, '\ufeff'):
			return nil, fmt.Errorf("data: %s: line %d: class name %s holds a byte order mark (U+FEFF; only one at the start of the file is allowed)", name, line, strconv.Quote(n))
		}
		if j, dup := seen[n]; dup {
			return nil, fmt.Errorf("data: %s: line %d repeats class name %q of line %d", name, line, n, j+1)
		}
		seen[n] = i
		names[i] = n
	}
	return names, nil
}

// readClassNames reads and parses a class names file of fsys; label is
// how errors call it (the path the user knows).
func readClassNames(fsys fs.FS, path, label string) ([]string, error) {
	f, err := fsys.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", label, unwrapPath(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxClassNamesBytes+1))
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", label, unwrapPath(err))
	}
	return ParseClassNames(label, b)
}

// unwrapPath drops an fs.PathError's own path (callers name the file as
// the user knows it).
func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// numberedClasses returns "0".."n-1".
func numberedClasses(n int) []string {
	c := make([]string, n)
	for i := range c {
		c[i] = strconv.Itoa(i)
	}
	return c
}
