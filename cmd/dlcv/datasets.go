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
			fmt.Fprintln(stdout, "\nA folder also works: dlcv train --dataset PATH, PATH holding one sub-folder of images per class, or an MNIST-style")
			fmt.Fprintln(stdout, "dataset's four IDX files (train-images-idx3-ubyte[.gz] ..., optional labels.txt; EMNIST: PATH/emnist-balanced)")
			return nil
		},
	})
}
