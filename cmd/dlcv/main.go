// Command dlcv is deep learning for computer vision in pure Go. Each
// sub-command lives in its own file and only parses flags, calls the
// library packages and prints; the logic is in the packages.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// command is one sub-command; files register theirs from init.
type command struct {
	name    string
	summary string // one line for `dlcv help`
	// run parses args (after the command name) and does the work. It
	// returns errUsage (wrapped) for bad flags or arguments.
	run func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// errUsage marks errors caused by bad command-line use (exit code 2).
var errUsage = errors.New("usage")

// usageErrorf returns an error that prints as the message and exits 2.
func usageErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// newFlagSet makes a flag set that reports errors instead of exiting and
// prints help with the given usage line and examples.
func newFlagSet(name, usage, examples string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("dlcv "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: dlcv %s %s\n\n", name, usage)
		if c := commands[name]; c != nil {
			fmt.Fprintf(stderr, "%s\n\n", c.summary)
		}
		fmt.Fprintln(stderr, "Flags:")
		fs.PrintDefaults()
		if examples != "" {
			fmt.Fprintf(stderr, "\nExamples:\n%s\n", examples)
		}
	}
	return fs
}

// parseFlags parses args into fs; -h/--help returns flag.ErrHelp. Flags
// may come after positional arguments (dlcv evaluate MODEL --json), as
// users of most command-line tools expect; "--" ends the flags.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				continue
			}
			f := fs.Lookup(name)
			if f == nil {
				continue // Parse reports it
			}
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !(ok && b.IsBoolFlag()) && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			pos = append(pos, a)
		}
	}
	if err := fs.Parse(append(append(flags, "--"), pos...)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run executes a command line and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c := commands[args[1]]; c != nil {
				return run([]string{args[1], "--help"}, stdout, stderr)
			}
		}
		printHelp(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c := commands[args[0]]
	if c == nil {
		fmt.Fprintf(stderr, "dlcv: unknown command %q (run 'dlcv help' for the list)\n", args[0])
		return 2
	}
	err := c.run(args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "dlcv %s: %s\n", c.name, strings.TrimPrefix(err.Error(), "usage: "))
		fmt.Fprintf(stderr, "Run 'dlcv %s --help' for usage.\n", c.name)
		return 2
	default:
		fmt.Fprintf(stderr, "dlcv %s: %v\n", c.name, err)
		return 1
	}
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "dlcv: deep learning for computer vision in pure Go")
	fmt.Fprintln(w, "\nUsage: dlcv COMMAND [flags] [args]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'dlcv COMMAND --help' for a command's flags and examples.")
}
