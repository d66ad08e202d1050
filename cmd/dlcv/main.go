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

// unknownFlagError is a usage error told in one line, with the nearest
// flag the command has.
type unknownFlagError struct{ cmd, flag, near string }

func (e *unknownFlagError) Error() string {
	msg := fmt.Sprintf("unknown flag %s", e.flag)
	if e.near != "" {
		msg += fmt.Sprintf(" (did you mean --%s?)", e.near)
	}
	return msg + fmt.Sprintf("; 'dlcv %s --help' lists the flags", e.cmd)
}

func (e *unknownFlagError) Unwrap() error { return errUsage }

// nearestFlag is the flag of fs closest to name by edit distance (at most
// a third of the name's length, or one that starts with name), or "".
func nearestFlag(fs *flag.FlagSet, name string) string {
	best, bestD := "", len(name)/3+1
	fs.VisitAll(func(f *flag.Flag) {
		d := editDistance(name, f.Name)
		if strings.HasPrefix(f.Name, name) && len(name) >= 2 {
			d = min(d, 1)
		}
		if d < bestD || (d == bestD && best != "" && f.Name < best) {
			best, bestD = f.Name, d
		}
	})
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

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
			name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			f := fs.Lookup(name)
			if f == nil && name != "h" && name != "help" {
				return &unknownFlagError{cmd: strings.TrimPrefix(fs.Name(), "dlcv "), flag: a, near: nearestFlag(fs, name)}
			}
			if f == nil || hasValue {
				continue
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
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version" || args[0] == "-v") {
		args = append([]string{"version"}, args[1:]...)
	}
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
	var unknown *unknownFlagError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &unknown):
		fmt.Fprintf(stderr, "dlcv %s: %v\n", c.name, err)
		return 2
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
	fmt.Fprintln(w, "\nRun 'dlcv COMMAND --help' for a command's flags and examples, 'dlcv --version' for the version.")
}
