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
