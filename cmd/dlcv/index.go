package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/dlcv-go/dlcv/annotate"
)

const indexExamples = `  dlcv models pull mobilenet-v2
  dlcv index photos/ --out photos.index       # embeds every image below photos/
  dlcv index photos/ --out photos.index       # again: only new and changed files
  dlcv similar query.jpg --index photos.index
  dlcv serve --index photos.index             # WEB_DETECTION against it`

func init() {
	register(&command{
		name:    "index",
		summary: "embed a folder of images for 'dlcv similar' and WEB_DETECTION (incremental)",
		run:     runIndex,
	})
}

func runIndex(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("index", "DIR --out INDEX [--backbone NAME|FILE]", indexExamples, stderr)
	out := fs.String("out", "", "index `FILE` to write (an existing one is updated: new and changed images are embedded, removed ones dropped)")
	backbone := fs.String("backbone", annotate.DefaultBackbone, "backbone `NAME|FILE` whose pooled features embed the images")
	workers := fs.Int("workers", 1, "images embedded at once (the backbone already uses every core)")
	pos, err := parseFlagsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return usageErrorf("want one DIR and --out INDEX")
	}
	if *workers < 1 {
		return usageErrorf("--workers %d: want at least 1", *workers)
	}
	var prev *annotate.Index
	if _, err := os.Stat(*out); err == nil {
		if prev, err = annotate.LoadIndex(*out); err != nil {
			return fmt.Errorf("%w (remove it to start a new index)", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	e, err := annotate.LoadEmbedder(*backbone)
	if err != nil {
		return err
	}
	o := annotate.IndexOptions{Previous: prev, Workers: *workers}
	var bar *progressbar.ProgressBar
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		o.Progress = func(done, total int) {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("embedding"),
					progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionClearOnFinish())
			}
			bar.Set(done)
		}
	} else {
		next := 0
		o.Progress = func(done, total int) {
			if done >= next || done == total {
				fmt.Fprintf(stderr, "dlcv index: %d/%d images embedded\n", done, total)
				next = done + max(total/10, 1)
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	x, st, err := annotate.BuildIndex(ctx, pos[0], e, o)
	if err != nil {
		return err
	}
	for _, f := range st.Failed {
		fmt.Fprintf(stderr, "dlcv index: skipped %s\n", f)
	}
	if err := x.Save(*out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d images (%d embedded, %d unchanged, %d removed, %d skipped), %d-value vectors from %s\n",
		*out, len(x.Entries), st.Embedded, st.Kept, st.Removed, len(st.Failed), x.Dim, x.Backbone)
	return nil
}
