package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/dlcv-go/dlcv/pretrained"
	"github.com/dlcv-go/dlcv/zoo"
)

const modelsExamples = `  dlcv models                       # list models and which are downloaded
  dlcv models pull mobilenet-v2     # download into $DLCV_HOME (checksum-verified)
  DLCV_HOME=/data/dlcv dlcv models pull mobilenet-v1-0.25`

func init() {
	register(&command{
		name:    "models",
		summary: "list the available models; 'models pull NAME' downloads one",
		run:     runModels,
	})
}

// modelsSection prints one part of the 'dlcv models' listing; further
// kinds of models add a section to modelsSections.
type modelsSection struct {
	title string
	print func(w io.Writer) error
}

var modelsSections = []modelsSection{
	{title: "Pretrained classifiers (dlcv classify --model NAME)", print: func(w io.Writer) error { return printPretrained(w, "") }},
	{title: "Feature models (dlcv objects, safesearch, faces, serve)", print: func(w io.Writer) error { return printPretrained(w, pretrained.KindAnnotate) }},
	{title: "Architectures to train (dlcv train --arch NAME)", print: printZoo},
}

// printZoo lists the zoo's architectures with their parameter counts at
// their usual input size (10 classes).
func printZoo(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tINPUT\tPARAMS (10 classes)\tDESCRIPTION")
	for _, name := range zoo.Names() {
		a, err := zoo.Get(name)
		if err != nil {
			return err
		}
		tr, nt, err := zoo.ParamCount(name, 10)
		if err != nil {
			return err
		}
		in := a.DefaultInput
		fmt.Fprintf(tw, "  %s\t%dx%dx%d\t%s\t%s\n", name, in[0], in[1], in[2], thousands(tr+nt), a.Description)
	}
	return tw.Flush()
}

// thousands formats n with commas, as Keras' summary does.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func runModels(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("models", "[pull NAME]", modelsExamples, stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() == 0:
		for i, s := range modelsSections {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			fmt.Fprintf(stdout, "%s:\n", s.title)
			if err := s.print(stdout); err != nil {
				return err
			}
		}
		return nil
	case fs.Arg(0) == "pull":
		if fs.NArg() != 2 {
			return usageErrorf("pull needs exactly one model NAME")
		}
		return modelsPull(fs.Arg(1), stdout, stderr)
	}
	return usageErrorf("unknown argument %q (want nothing or 'pull NAME')", fs.Arg(0))
}

// printPretrained lists the registered models of one kind.
func printPretrained(w io.Writer, kind string) error {
	dir, err := pretrained.Dir()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tINPUT\tSIZE\tLOCAL\tLICENCE\tDESCRIPTION")
	for _, m := range pretrained.Models {
		if m.Kind != kind {
			continue
		}
		local, size := "yes", int64(0)
		for _, f := range m.Files() {
			size += f.Size
			if !pretrained.Present(f) {
				local = "no"
			}
		}
		fmt.Fprintf(tw, "  %s\t%dx%d\t%.1f MB\t%s\t%s\t%s\n", m.Name, m.InputSize, m.InputSize, float64(size)/1e6, local, m.License, m.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if kind != "" {
		fmt.Fprintf(w, "  cache: %s (set DLCV_HOME to change)\n", dir)
	}
	return nil
}

// modelsBaseURL overrides the download source (tests use a loopback server).
var modelsBaseURL = ""

func modelsPull(name string, stdout, stderr io.Writer) error {
	m, err := pretrained.Lookup(name)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if a := m.Archive; a != nil {
		for _, f := range m.Files() {
			if !pretrained.Present(f) {
				// The package can be far larger than the model.
				fmt.Fprintf(stderr, "%s: downloading %s (%.1f MB) to extract its files\n", name, a.URL, float64(a.Size)/1e6)
				break
			}
		}
	}
	p := &pretrained.Puller{BaseURL: modelsBaseURL}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.Progress = func(file pretrained.File, size int64) io.Writer {
			return progressbar.NewOptions64(size,
				progressbar.OptionSetWriter(stderr),
				progressbar.OptionSetDescription(file.Name),
				progressbar.OptionShowBytes(true),
				progressbar.OptionClearOnFinish())
		}
	}
	if err := p.Pull(context.Background(), name); err != nil {
		return err
	}
	path, _, err := pretrained.Resolve(name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s (SHA-256 verified)\n", name, path)
	return nil
}
