// Package atomicfile writes files so that readers see either the old
// content or the complete new content, never a half-written file: write
// to a temporary file in the same directory, sync, rename.
//
// A process killed during a write leaves its temporary file behind;
// CleanStale removes such files. Their names carry the writer's process
// id (".NAME.tmpPID-RANDOM"), so that a file some running process is still
// writing is left alone.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// tempName matches the temporary files of Write: ".NAME.tmpPID-RANDOM",
// and ".NAME.tmpRANDOM" as releases before the process id wrote them.
var tempName = regexp.MustCompile(`^\..+\.tmp(\d+)(-\d+)?$`)

// legacyAge is how old a temporary file without a process id must be
// before CleanStale takes it for stale; a write lasts seconds.
const legacyAge = 10 * time.Minute

// maxAge is how old any temporary file of ours must be to be stale even
// if a process with its writer's id runs (the id was reused).
const maxAge = 24 * time.Hour

// CleanStale removes the temporary files that writers killed before they
// finished left in dir, and returns their paths. A file is stale when the
// process that wrote it is gone, or, for names without a process id, when
// it is older than 10 minutes. Other files are never touched.
func CleanStale(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range ents {
		m := tempName.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		age := time.Since(info.ModTime())
		stale := age > maxAge
		if m[2] == "" {
			stale = stale || age > legacyAge
		} else if pid, err := strconv.Atoi(m[1]); err == nil && pid != os.Getpid() {
			stale = stale || !processAlive(pid)
		}
		if !stale {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if err := os.Remove(p); err == nil {
			removed = append(removed, p)
		}
	}
	return removed, nil
}

// Write writes path through write, atomically.
func Write(path string, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp"+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	name := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(name)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := write(tmp); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; models and reports are for sharing.
	os.Chmod(name, 0o644)
	if err := os.Rename(name, path); err != nil {
		os.Remove(name)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// WriteBytes writes b to path atomically.
func WriteBytes(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
