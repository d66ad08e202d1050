package main

import (
	"fmt"
	"io"

	"github.com/dlcv-go/dlcv/pipeline"
)

func init() {
	register(&command{
		name:    "datasets",
		summary: "list the datasets dlcv knows by name",
		run: func(args []string, stdout, stderr io.Writer) error {
			fs := newFlagSet("datasets", "", "  dlcv datasets", stderr)
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			for _, d := range pipeline.Datasets {
				fmt.Fprintf(stdout, "%-10s %s\n", d.Name, d.Description)
			}
			fmt.Fprintln(stdout, "\nAny folder with one sub-folder of images per class also works: dlcv train --dataset PATH")
			return nil
		},
	})
}
