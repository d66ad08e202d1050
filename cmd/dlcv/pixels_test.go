package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/imgproc"
)

func TestPixels(t *testing.T) {
	dir := t.TempDir()
	src := testPNG(t, dir, 10, 6)
	code, out, errOut := runCLI("pixels", src, "--region", "3,1,4,2", "--channel", "r")
	if code != 0 || out != " 20  20 220 220\n 20  20 220 220\n" {
		t.Fatalf("code %d stdout %q stderr %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "10x6 image") {
		t.Errorf("stderr: %q", errOut)
	}
	code, out, _ = runCLI("pixels", "--channel", "g", src)
	if code != 0 || strings.Count(out, "\n") != 6 || !strings.HasPrefix(out, " 0  0") || !strings.HasSuffix(out, "20\n") {
		t.Errorf("whole image green: %d %q", code, out)
	}
	code, out, _ = runCLI("pixels", src, "--region", "0,0,1,1")
	if want := fmt.Sprintf("%d\n", imgproc.GrayValue(20, 0, 100)); code != 0 || out != want {
		t.Errorf("gray: %q, want %q", out, want)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{src, "--region", "8,0,4,1"}, 1, "outside the 10x6 image"},
		{[]string{src, "--region", "1,2"}, 2, "x,y,w,h"},
		{[]string{src, "--channel", "alpha"}, 2, `unknown channel "alpha"`},
		{[]string{writeFile(t, dir, "x.txt", "hello")}, 1, "not an image"},
		{[]string{}, 2, "want one IMAGE"},
	} {
		code, _, errOut := runCLI(append([]string{"pixels"}, c.args...)...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: code %d stderr %q, want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
}
