package main

import (
	"fmt"
	"io"
	"runtime"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func init() {
	register(&command{
		name:    "version",
		summary: "print the dlcv version and platform",
		run: func(args []string, stdout, stderr io.Writer) error {
			fs := newFlagSet("version", "", "  dlcv version", stderr)
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return usageErrorf("unexpected argument %q", fs.Arg(0))
			}
			fmt.Fprintf(stdout, "dlcv %s %s/%s %s\n", version, runtime.GOOS, runtime.GOARCH, runtime.Version())
			return nil
		},
	})
}
