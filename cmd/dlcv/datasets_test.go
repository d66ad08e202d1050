package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/data"
)

func TestDatasetsCommand(t *testing.T) {
	t.Setenv("DLCV_HOME", t.TempDir())
	code, stdout, stderr := runCLI("datasets")
	if code != 0 {
		t.Fatalf("datasets: %d %s", code, stderr)
	}
	for _, want := range []string{"fashion-mnist", "cifar10 ", "cifar100", "no: dlcv datasets pull cifar10", "32x32x3", os.Getenv("DLCV_HOME"), "IDX files"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("listing lacks %q:\n%s", want, stdout)
		}
	}
	for _, args := range [][]string{{"datasets", "pull"}, {"datasets", "pull", "imagenet"}, {"datasets", "frob"}} {
		if code, _, stderr := runCLI(args...); code != 2 {
			t.Errorf("%v: exit %d %s", args, code, stderr)
		}
	}
	code, _, stderr = runCLI("train", "--dataset", "cifar10", "--quiet")
	if code != 1 || !strings.Contains(stderr, "dlcv datasets pull cifar10") {
		t.Errorf("cifar10 not here: exit %d %s", code, stderr)
	}

	// A tiny CIFAR-10 folder trains end to end.
	dir := t.TempDir()
	rec := make([]byte, 3073)
	var batch []byte
	for i := range 4 {
		rec[0] = byte(i % 2)
		batch = append(batch, rec...)
	}
	for _, f := range append(append([]string{}, data.CIFAR10.Train...), data.CIFAR10.Test) {
		os.WriteFile(filepath.Join(dir, f), batch, 0o644)
	}
	code, stdout, stderr = runCLI("train", "--dataset", "cifar10:"+dir, "--arch", "softmax", "--epochs", "1", "--val-split", "0", "--quiet")
	if code != 0 || !strings.Contains(stdout, "airplane") || !strings.Contains(stdout, "automobile") {
		t.Errorf("train on cifar10:PATH: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
