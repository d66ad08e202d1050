package main

import (
	"bytes"
	"strings"
	"testing"
)

// runCLI runs a command line in-process and returns exit code, stdout, stderr.
func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUnknownCommandAndFlag(t *testing.T) {
	code, _, stderr := runCLI("frobnicate")
	if code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	code, _, stderr = runCLI("version", "--bogus")
	if code != 2 || !strings.Contains(stderr, "bogus") {
		t.Fatalf("code %d stderr %q", code, stderr)
	}
	code, stdout, _ := runCLI("version")
	if code != 0 || !strings.HasPrefix(stdout, "dlcv ") {
		t.Fatalf("code %d stdout %q", code, stdout)
	}
	code, stdout, _ = runCLI("help")
	if code != 0 || !strings.Contains(stdout, "version") {
		t.Fatalf("help: code %d stdout %q", code, stdout)
	}
}

// An unknown flag is one line with the nearest flag; dlcv --version works.
func TestDidYouMeanAndVersionFlag(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--epoch", "3"}, "unknown flag --epoch (did you mean --epochs?)"},
		{[]string{"train", "--nestrov"}, "(did you mean --nesterov?)"},
		{[]string{"train", "--val-splt=0.2"}, "(did you mean --val-split?)"},
		{[]string{"evaluate", "--jsn", "m"}, "(did you mean --json?)"},
	} {
		code, _, stderr := runCLI(c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q: want one line with %q", c.args, code, stderr, c.want)
		}
	}
	code, _, stderr := runCLI("train", "--qqqqqqqq")
	if code != 2 || strings.Contains(stderr, "did you mean") || !strings.Contains(stderr, "--qqqqqqqq") {
		t.Errorf("nothing near: exit %d stderr %q", code, stderr)
	}
	for _, v := range []string{"--version", "-version"} {
		code, stdout, _ := runCLI(v)
		if code != 0 || !strings.HasPrefix(stdout, "dlcv ") {
			t.Errorf("%s: exit %d stdout %q", v, code, stdout)
		}
	}
}
