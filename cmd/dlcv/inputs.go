package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dlcv-go/dlcv/data"
)

// imageInputs expands the directories among args into their image files
// (sorted, not recursive), so commands work on a folder of frames.
func imageInputs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, e := range entries {
			if !e.IsDir() && data.IsImageFile(e.Name()) {
				names = append(names, filepath.Join(a, e.Name()))
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("directory %s holds no images (%s)", a, strings.Join(data.ImageExtensions, " "))
		}
		slices.Sort(names)
		out = append(out, names...)
	}
	return out, nil
}

// eachPhoto runs do on every photo. Errors (do's second result) go to
// stderr as "cmd: message"; results are printed one by one with print, or
// all together as one JSON array with asJSON. It fails when any photo did.
func eachPhoto[R any](photos []string, asJSON bool, stdout, stderr io.Writer, cmd string, do func(path string) (R, string), print func(io.Writer, R)) error {
	results := make([]R, 0, len(photos))
	failed := 0
	for _, p := range photos {
		r, errMsg := do(p)
		if errMsg != "" {
			failed++
			fmt.Fprintf(stderr, "%s: %s\n", cmd, errMsg)
		}
		if asJSON {
			results = append(results, r)
		} else if errMsg == "" {
			print(stdout, r)
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d photos could not be processed", failed, len(photos))
	}
	return nil
}
