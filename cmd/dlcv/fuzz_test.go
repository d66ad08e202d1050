package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseSize feeds arbitrary --size values (dlcv train, dlcv smiles
// train) to parseWxH: a size it accepts has both sides in range and
// prints back to an equivalent value.
func FuzzParseSize(f *testing.F) {
	for _, seed := range []string{"32x32", "28X28", " 224x224 ", "0x5", "-1x4", "32x32junk", "99999999999999999999x1", "+3x4", "3x", "x3", "1x65536", "65537x1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		w, h, err := parseWxH(v)
		if err != nil {
			if !strings.Contains(err.Error(), "WIDTHxHEIGHT") {
				t.Fatalf("error %q does not say what to give", err)
			}
			return
		}
		if w < 1 || h < 1 || w > maxSide || h > maxSide {
			t.Fatalf("%q accepted as %dx%d", v, w, h)
		}
		if w2, h2, err := parseWxH(fmt.Sprintf("%dx%d", w, h)); err != nil || w2 != w || h2 != h {
			t.Fatalf("%q -> %dx%d does not read back: %d %d %v", v, w, h, w2, h2, err)
		}
	})
}

// FuzzParseByteSize feeds arbitrary --max-body / --max-memory /
// --max-image-bytes / --min-body-rate values to parseSize: what it
// accepts is positive and bounded.
func FuzzParseByteSize(f *testing.F) {
	for _, seed := range []string{"10MB", "10MiB", "512k", "1048576", "1.5M", "0", "-5", "1e30", "NaN", "Inf", "4GiB", "0.0000001"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		n, err := parseSize(v, "B")
		if err != nil {
			if !strings.Contains(err.Error(), "positive size") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if n < 1 || n > 1<<62 {
			t.Fatalf("%q accepted as %d", v, n)
		}
	})
}

// FuzzReadAPIKeys feeds arbitrary --api-key-file contents to readAPIKeys:
// keys come back trimmed, one a line, never blank or comments.
func FuzzReadAPIKeys(f *testing.F) {
	for _, seed := range []string{"0123456789abcdef\n", "# comment\n\n  key-with-spaces  \r\nsecond\n", "", "\x00\xff\n#\n"} {
		f.Add([]byte(seed))
	}
	path := filepath.Join(f.TempDir(), "keys")
	f.Fuzz(func(t *testing.T, data []byte) {
		os.WriteFile(path, data, 0o600)
		keys, err := readAPIKeys(path)
		if err != nil {
			return
		}
		for _, k := range keys {
			if k == "" || k != strings.TrimSpace(k) || strings.HasPrefix(k, "#") || strings.Contains(k, "\n") {
				t.Fatalf("key %q from %q", k, data)
			}
		}
	})
}
