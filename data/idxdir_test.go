package data

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// idxBytes encodes an IDX file; it fails the test on a bad shape.
func idxBytes(t testing.TB, dims []int, data []byte) []byte {
	t.Helper()
	b, err := EncodeIDX(&IDX{Dims: dims, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tinyIDX returns the four files of a tiny MNIST-style dataset: n
// train and m test images of h x w, pixel i of image k = k*7+i, labels
// k % classes.
func tinyIDX(t testing.TB, n, m, h, w, classes int) [4][]byte {
	t.Helper()
	var files [4][]byte
	for s, count := range []int{n, m} {
		pix := make([]byte, count*h*w)
		for i := range pix {
			pix[i] = byte(i/(h*w)*7 + i%(h*w))
		}
		lab := make([]byte, count)
		for i := range lab {
			lab[i] = byte(i % classes)
		}
		files[2*s] = idxBytes(t, []int{count, h, w}, pix)
		files[2*s+1] = idxBytes(t, []int{count}, lab)
	}
	return files
}

// writeIDXDir writes files into dir under prefix+IDXNames, gzipping those
// whose index is in gzipped.
func writeIDXDir(t *testing.T, dir, prefix string, files [4][]byte, gzipped ...int) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	for i, b := range files {
		name := prefix + IDXNames[i]
		if slices.Contains(gzipped, i) {
			b, name = gz(b), name+".gz"
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestIDXFolder(t *testing.T) {
	dir := t.TempDir()
	writeIDXDir(t, dir, "", tinyIDX(t, 12, 5, 4, 3, 4), 0, 3)
	if !IsIDXPath(dir) {
		t.Fatal("not recognised as an IDX folder")
	}
	f, err := FindIDX(dir)
	if err != nil {
		t.Fatal(err)
	}
	if f.Files[0] != IDXNames[0]+".gz" || f.Files[1] != IDXNames[1] || f.Labels != "" {
		t.Fatalf("found %+v", f)
	}
	train, test, err := LoadIDXFolder(f)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(train.Shape(), []int{12, 4, 3, 1}) || !slices.Equal(test.Shape(), []int{5, 4, 3, 1}) || train.U8 == nil {
		t.Fatalf("shapes %v %v", train.Shape(), test.Shape())
	}
	if !slices.Equal(train.Classes, []string{"0", "1", "2", "3"}) || train.Y[5] != 1 || test.Y[4] != 0 {
		t.Fatalf("classes %v labels %v %v", train.Classes, train.Y, test.Y)
	}
	if v := train.U8.Pix[2*12+5]; v != 2*7+5 {
		t.Errorf("pixel 5 of image 2 is %d", v)
	}
	if err := train.Validate(); err != nil {
		t.Fatal(err)
	}

	// labels.txt names the classes.
	os.WriteFile(filepath.Join(dir, ClassNamesFile), []byte("zero\r\none\r\ntwo\r\nthree\r\n\r\n"), 0o644)
	f, _ = FindIDX(dir)
	if train, _, err = LoadIDXFolder(f); err != nil || !slices.Equal(train.Classes, []string{"zero", "one", "two", "three"}) {
		t.Fatalf("labels.txt: %v %v", err, train)
	}
	for body, want := range map[string]string{
		"a\nb\nc\n":       "names 3 classes, but the labels of train-labels-idx1-ubyte and t10k-labels-idx1-ubyte.gz go from 0 to 3: want 4 names",
		"a\nb\nc\nd\ne\n": "names 5 classes",
		"a\n\nc\nd\n":     "line 2 is blank",
		"a\nb\na\nd\n":    `line 3 repeats class name "a" of line 1`,
		"":                "no class names",
	} {
		os.WriteFile(filepath.Join(dir, ClassNamesFile), []byte(body), 0o644)
		_, _, err := LoadIDXFolder(f)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), filepath.Join(dir, ClassNamesFile)) {
			t.Errorf("labels.txt %q: %v, want %q and the file's path", body, err, want)
		}
	}
}

func TestIDXFolderErrors(t *testing.T) {
	files := tinyIDX(t, 6, 3, 2, 2, 3)
	check := func(name string, err error, want ...string) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error", name)
			return
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want %q", name, err, w)
			}
		}
	}
	// A missing file is named.
	dir := t.TempDir()
	writeIDXDir(t, dir, "", files)
	os.Remove(filepath.Join(dir, IDXNames[3]))
	_, err := FindIDX(dir)
	check("missing", err, dir, "lacks t10k-labels-idx1-ubyte[.gz]")
	if !IsIDXPath(dir) {
		t.Error("an incomplete IDX folder is not recognised (its error would be lost)")
	}
	_, err = FindIDX(t.TempDir())
	check("empty", err, "holds no IDX files")
	_, err = FindIDX(filepath.Join(t.TempDir(), "a", "b"))
	check("nowhere", err, "no such file")

	// Truncated images, labels that do not match, mismatched shapes.
	bad := func(name string, edit func(f *[4][]byte), want ...string) {
		t.Helper()
		dir := t.TempDir()
		f := files
		edit(&f)
		writeIDXDir(t, dir, "", f)
		fo, err := FindIDX(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = LoadIDXFolder(fo)
		check(name, err, want...)
	}
	bad("truncated", func(f *[4][]byte) { f[0] = f[0][:len(f[0])-1] }, IDXNames[0], "truncated")
	bad("labels", func(f *[4][]byte) { f[1] = idxBytes(t, []int{5}, make([]byte, 5)) }, IDXNames[1], "want (6)")
	bad("rank", func(f *[4][]byte) { f[2] = idxBytes(t, []int{3, 4}, make([]byte, 12)) }, IDXNames[2], "want (N,H,W)")
	bad("shape", func(f *[4][]byte) { f[2] = idxBytes(t, []int{3, 2, 3}, make([]byte, 18)) }, IDXNames[2], "[2 3 1] images")
	bad("channels", func(f *[4][]byte) {
		f[0] = idxBytes(t, []int{6, 2, 2, 2}, make([]byte, 48))
	}, "2 channels")

	// MNIST's labels must be digits.
	dir = t.TempDir()
	f := files
	f[1] = idxBytes(t, []int{6}, []byte{0, 1, 2, 10, 4, 5})
	writeIDXDir(t, dir, "", f)
	_, _, err = LoadMNISTDir(dir)
	check("mnist label", err, IDXNames[1], "label 10 of image 3 is out of range")
}

// EMNIST's layout: several prefixed sets in one folder, picked by
// DIR/PREFIX; rank-4 files carry channels.
func TestIDXPrefixedSets(t *testing.T) {
	dir := t.TempDir()
	writeIDXDir(t, dir, "emnist-letters-", tinyIDX(t, 8, 4, 3, 3, 4), 0, 1, 2, 3)
	writeIDXDir(t, dir, "emnist-digits-", tinyIDX(t, 6, 3, 3, 3, 2), 0, 1, 2, 3)
	os.WriteFile(filepath.Join(dir, "emnist-letters-labels.txt"), []byte("n/a\na\nb\nc\n"), 0o644)
	_, err := FindIDX(dir)
	if err == nil || !strings.Contains(err.Error(), "2 IDX datasets") || !strings.Contains(err.Error(), filepath.Join(dir, "emnist-digits")) {
		t.Fatalf("two sets: %v", err)
	}
	for name, want := range map[string][]string{"emnist-letters": {"n/a", "a", "b", "c"}, "emnist-digits": {"0", "1"}} {
		p := filepath.Join(dir, name)
		if !IsIDXPath(p) {
			t.Errorf("%s not recognised", p)
		}
		f, err := FindIDX(p)
		if err != nil {
			t.Fatal(err)
		}
		train, _, err := LoadIDXFolder(f)
		if err != nil || !slices.Equal(train.Classes, want) {
			t.Errorf("%s: %v %v", name, err, train)
		}
	}
	if IsIDXPath(filepath.Join(dir, "emnist-balanced")) {
		t.Error("a missing prefix is recognised")
	}
	if _, err := FindIDX(filepath.Join(dir, "emnist-balanced")); err == nil || !strings.Contains(err.Error(), "emnist-digits, emnist-letters") {
		t.Errorf("missing prefix: %v", err)
	}

	// (N,H,W,3) images.
	dir = t.TempDir()
	files := tinyIDX(t, 4, 2, 2, 2, 2)
	files[0] = idxBytes(t, []int{4, 2, 2, 3}, make([]byte, 48))
	files[2] = idxBytes(t, []int{2, 2, 2, 3}, make([]byte, 24))
	writeIDXDir(t, dir, "", files)
	f, _ := FindIDX(dir)
	train, _, err := LoadIDXFolder(f)
	if err != nil || !slices.Equal(train.SampleShape(), []int{2, 2, 3}) {
		t.Fatalf("RGB IDX: %v %v", err, train)
	}
}

func TestParseClassNames(t *testing.T) {
	for body, want := range map[string][]string{
		"a\nb":                                {"a", "b"},
		"\ufeffT-shirt/top\r\nAnkle boot\r\n": {"T-shirt/top", "Ankle boot"},
		"  x  \n\ty\n\n\n  \n":                {"x", "y"},
	} {
		got, err := ParseClassNames("n.txt", []byte(body))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%q: %q %v", body, got, err)
		}
	}
	for body, want := range map[string]string{
		"\n\n":                   "no class names",
		"a\n\nb":                 "line 2 is blank",
		"a\x00b\n":               "control character",
		"a\xff\n":                "not valid UTF-8",
		strings.Repeat("x", 300): "300 bytes",
		"a\nb\nb":                "line 3 repeats",
	} {
		if _, err := ParseClassNames("n.txt", []byte(body)); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "n.txt") {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
	if _, err := ParseClassNames("big.txt", make([]byte, maxClassNamesBytes+1)); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("huge file: %v", err)
	}
}

func FuzzClassNames(f *testing.F) {
	f.Add([]byte("airplane\nautomobile\nbird\n\n"))
	f.Add([]byte("\ufeffa\r\nb\r\n"))
	f.Add([]byte("a\n\nb"))
	f.Add([]byte("a\na"))
	f.Fuzz(func(t *testing.T, b []byte) {
		names, err := ParseClassNames("fuzz", b)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, n := range names {
			if n == "" || n != strings.TrimSpace(n) || seen[n] || strings.Contains(n, "\n") {
				t.Fatalf("bad name %q in %q", n, names)
			}
			seen[n] = true
		}
		// Parsing what it returned gives it back.
		again, err := ParseClassNames("fuzz", []byte(strings.Join(names, "\n")))
		if err != nil || !slices.Equal(again, names) {
			t.Fatalf("round trip: %q -> %q, %v", names, again, err)
		}
	})
}

// FuzzIDXFolder fuzzes finding (names, prefix) and loading an IDX folder:
// each listed name gets the images, labels or class names content by
// what it looks like. Whatever it is given, it fails with an error or
// returns valid datasets.
func FuzzIDXFolder(f *testing.F) {
	files := tinyIDX(f, 4, 2, 2, 2, 3)
	all := strings.Join([]string{IDXNames[0] + ".gz", IDXNames[1], IDXNames[2], IDXNames[3], ClassNamesFile}, "\n")
	f.Add(all, "", files[0], files[1], []byte("a\nb\nc\n"))
	f.Add(strings.ReplaceAll(all, "t", "x-t"), "x", files[0], files[1], []byte("a\nb\n"))
	f.Add("p-"+strings.ReplaceAll(all, "\n", "\np-"), "", gz(files[0]), files[1], []byte(""))
	f.Add(all+"\nq-"+IDXNames[0], "q", files[0], gz(files[1]), []byte("a\n\nb"))
	f.Fuzz(func(t *testing.T, names, prefix string, images, labels, classes []byte) {
		fsys := fstest.MapFS{}
		var list []string
		for _, n := range strings.Split(names, "\n") {
			if !plainName(n) || len(list) >= 16 {
				continue
			}
			var body []byte
			switch {
			case strings.HasSuffix(n, ClassNamesFile):
				body = classes
			case strings.Contains(n, "images"):
				body = images
			case strings.Contains(n, "labels"):
				body = labels
			}
			if strings.HasSuffix(n, ".gz") && len(body) > 0 && body[0] != 0x1f {
				body = gz(body)
			}
			fsys[n] = &fstest.MapFile{Data: body}
			list = append(list, n)
		}
		fo, err := MatchIDX("fuzz", list, prefix)
		if err != nil {
			return
		}
		for _, n := range fo.Files {
			if _, ok := fsys[n]; !ok {
				t.Fatalf("picked %q, not among %q", n, list)
			}
		}
		train, test, err := loadIDX(fsys, fo, nil, "", nil)
		if err != nil {
			return
		}
		for _, d := range []*Dataset{train, test} {
			if err := d.Validate(); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(train.SampleShape(), test.SampleShape()) || !slices.Equal(train.Classes, test.Classes) {
			t.Fatalf("train %v %d classes, test %v %d classes", train.SampleShape(), len(train.Classes), test.SampleShape(), len(test.Classes))
		}
	})
}

// plainName reports whether n is a file name (no folders) that
// fstest.MapFS takes.
func plainName(n string) bool {
	return fs.ValidPath(n) && n != "." && !strings.Contains(n, "/") && len(n) < 200
}
