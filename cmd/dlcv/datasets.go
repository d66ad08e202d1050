package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/pipeline"
)

const datasetsExamples = `  dlcv datasets                        # list the named datasets and where each is
  dlcv datasets pull cifar10           # download into $DLCV_HOME/datasets/cifar10 (checksum-verified)
  dlcv train --dataset fashion-mnist --download --epochs 2
  dlcv train --dataset cifar10:/data/cifar-10-batches-bin --arch resnet20
  dlcv train --dataset /data/kmnist    # a folder of MNIST-style IDX files`

func init() {
	register(&command{
		name:    "datasets",
		summary: "list the datasets dlcv knows by name; 'datasets pull NAME' downloads one",
		run:     runDatasets,
	})
}

func runDatasets(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("datasets", "[pull NAME]", datasetsExamples, stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() == 0:
		return listDatasets(stdout)
	case fs.Arg(0) == "pull":
		if fs.NArg() != 2 {
			return usageErrorf("pull needs exactly one dataset NAME")
		}
		if !slices.Contains(pipeline.DownloadableDatasets, strings.ToLower(fs.Arg(1))) {
			return usageErrorf("unknown dataset %q (downloadable: %s)", fs.Arg(1), strings.Join(pipeline.DownloadableDatasets, ", "))
		}
		dir, err := pipeline.PullDataset(context.Background(), fs.Arg(1), stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %s (checksums verified)\n", fs.Arg(1), dir)
		return nil
	}
	return usageErrorf("unknown argument %q (want nothing or 'pull NAME')", fs.Arg(0))
}

func listDatasets(stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tINPUT\tON THIS MACHINE\tDESCRIPTION")
	for _, d := range pipeline.Datasets {
		where := pipeline.DatasetLocation(d.Name)
		switch {
		case d.Name == "smiles":
			where = "smiles:PATH or $" + pipeline.SmilesEnv
		case where == "":
			where = "no: dlcv datasets pull " + d.Name
		}
		fmt.Fprintf(tw, "%s\t%dx%dx%d\t%s\t%s\n", d.Name, d.Input[0], d.Input[1], d.Input[2], where, d.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if home, err := data.Home(); err == nil {
		fmt.Fprintf(stdout, "data folder: %s (set DLCV_HOME to change)\n", home)
	}
	fmt.Fprintln(stdout, "\nA folder also works: dlcv train --dataset PATH, PATH holding one sub-folder of images per class, or an MNIST-style")
	fmt.Fprintln(stdout, "dataset's four IDX files (train-images-idx3-ubyte[.gz] ..., optional labels.txt; EMNIST: PATH/emnist-balanced)")
	return nil
}
