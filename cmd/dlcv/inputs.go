package main

import (
	"fmt"
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
