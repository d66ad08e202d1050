package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cifarBatch builds a batch file: record k has the given labels (one
// byte each, e.g. coarse and fine), and pixel value (k + 3*p + 50*plane)
// mod 256 at position p of each colour plane.
func cifarBatch(labels ...[]byte) []byte {
	var b []byte
	for k, l := range labels {
		b = append(b, l...)
		for plane := range 3 {
			for p := range cifarPlane {
				b = append(b, byte(k+3*p+50*plane))
			}
		}
	}
	return b
}

func l1(v ...byte) [][]byte {
	var out [][]byte
	for _, x := range v {
		out = append(out, []byte{x})
	}
	return out
}

// writeCIFAR10 writes a tiny CIFAR-10 folder: batch i holds i+1 records.
func writeCIFAR10(t *testing.T, dir string, names string) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	for i, f := range CIFAR10.Train {
		labels := l1(byte(i), byte((i+3)%10))[:min(i+1, 2)]
		os.WriteFile(filepath.Join(dir, f), cifarBatch(labels...), 0o644)
	}
	os.WriteFile(filepath.Join(dir, CIFAR10.Test), cifarBatch(l1(9, 8, 7)...), 0o644)
	if names != "" {
		os.WriteFile(filepath.Join(dir, CIFAR10.NamesFile), []byte(names), 0o644)
	}
}

func TestCIFAR10Dir(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, CIFAR10.Folder)
	writeCIFAR10(t, dir, "")
	for _, d := range []string{root, dir} { // the tarball's folder or its parent
		train, test, err := CIFAR10.LoadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(train.Shape(), []int{9, 32, 32, 3}) || !slices.Equal(test.Shape(), []int{3, 32, 32, 3}) || train.U8 == nil {
			t.Fatalf("shapes %v %v", train.Shape(), test.Shape())
		}
		if !slices.Equal(train.Y, []int{0, 1, 4, 2, 5, 3, 6, 4, 7}) || !slices.Equal(test.Y, []int{9, 8, 7}) {
			t.Fatalf("labels %v %v", train.Y, test.Y)
		}
		if train.Classes[0] != "airplane" || test.Classes[9] != "truck" {
			t.Fatalf("classes %v", train.Classes)
		}
		// Planes become HWC: record 2 of the test batch, row 3, column 5.
		p := 3*32 + 5
		for c := range 3 {
			if got, want := test.U8.Pix[2*cifarPixels+3*p+c], byte(2+3*p+50*c); got != want {
				t.Errorf("channel %d: %d, want %d", c, got, want)
			}
		}
		if err := train.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	// batches.meta.txt, as published: ten names and blank lines.
	writeCIFAR10(t, dir, "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n")
	if train, _, err := CIFAR10.LoadDir(dir); err != nil || train.Classes[9] != "j" {
		t.Fatalf("names file: %v", err)
	}
	writeCIFAR10(t, dir, "a\nb\nc\n")
	if _, _, err := CIFAR10.LoadDir(dir); err == nil || !strings.Contains(err.Error(), "batches.meta.txt names 3 classes, CIFAR-10 has 10") {
		t.Errorf("short names file: %v", err)
	}
}

func TestCIFARErrors(t *testing.T) {
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
	_, _, err := CIFAR10.LoadDir(t.TempDir())
	check("empty folder", err, "holds neither test_batch.bin nor cifar-10-batches-bin/test_batch.bin")
	dir := t.TempDir()
	writeCIFAR10(t, dir, "")
	b3 := filepath.Join(dir, "data_batch_3.bin")
	os.Remove(b3)
	_, _, err = CIFAR10.LoadDir(dir)
	check("missing batch", err, b3, "no such file")
	os.WriteFile(b3, cifarBatch(l1(1, 2)...)[:3073+100], 0o644)
	_, _, err = CIFAR10.LoadDir(dir)
	check("truncated", err, b3, "truncated record: 3173 bytes are 1 records of 3073 bytes (1 label + 3072 pixel bytes) and 100 bytes of one more")
	os.WriteFile(b3, nil, 0o644)
	_, _, err = CIFAR10.LoadDir(dir)
	check("empty", err, b3, "empty file")
	os.WriteFile(b3, cifarBatch(l1(1, 10)...), 0o644)
	_, _, err = CIFAR10.LoadDir(dir)
	check("label", err, b3, "record 1: label 10 is out of range (CIFAR-10 has 10 classes, 0..9)")

	// CIFAR-100: coarse then fine; the fine label is the class.
	dir = t.TempDir()
	os.WriteFile(filepath.Join(dir, "train.bin"), cifarBatch([]byte{3, 99}, []byte{19, 0}), 0o644)
	os.WriteFile(filepath.Join(dir, "test.bin"), cifarBatch([]byte{0, 42}), 0o644)
	train, test, err := CIFAR100.LoadDir(dir)
	if err != nil || !slices.Equal(train.Y, []int{99, 0}) || test.Y[0] != 42 || train.Classes[99] != "worm" || len(test.Classes) != 100 {
		t.Fatalf("CIFAR-100: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "test.bin"), cifarBatch([]byte{20, 1}), 0o644)
	_, _, err = CIFAR100.LoadDir(dir)
	check("coarse", err, "test.bin", "record 0: coarse label 20 is out of range")
	os.WriteFile(filepath.Join(dir, "test.bin"), cifarBatch([]byte{2, 100}), 0o644)
	_, _, err = CIFAR100.LoadDir(dir)
	check("fine", err, "test.bin", "label 100 is out of range (CIFAR-100 has 100 classes, 0..99)")
}

func TestCIFARClassNames(t *testing.T) {
	for _, c := range []*CIFAR{CIFAR10, CIFAR100} {
		// The fine labels of CIFAR-100 are in alphabetical order.
		if c == CIFAR100 && (len(c.Classes) != 100 || !slices.IsSorted(c.Classes)) {
			t.Errorf("%s: %d classes", c.Title, len(c.Classes))
		}
		if len(slices.Compact(slices.Sorted(slices.Values(c.Classes)))) != len(c.Classes) {
			t.Errorf("%s: repeated names", c.Title)
		}
	}
}

// cifarTarball builds a tiny cifar-10-binary.tar.gz, with hostile
// members beside the real ones (they must be ignored).
func cifarTarball(t *testing.T, skip string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	add := func(name string, typ byte, body []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: typ, Size: int64(len(body)), Mode: 0o644, Linkname: "/etc/passwd"})
		tw.Write(body)
	}
	add("cifar-10-batches-bin/", tar.TypeDir, nil)
	for i, f := range CIFAR10.Train {
		if f != skip {
			add("cifar-10-batches-bin/"+f, tar.TypeReg, cifarBatch(l1(byte(i))...))
		}
	}
	add("cifar-10-batches-bin/test_batch.bin", tar.TypeReg, cifarBatch(l1(5, 6)...))
	add("cifar-10-batches-bin/batches.meta.txt", tar.TypeReg, []byte(strings.Join(CIFAR10.Classes, "\n")+"\n\n"))
	add("../evil.bin", tar.TypeReg, []byte("x"))
	add("cifar-10-batches-bin/../../evil2.bin", tar.TypeReg, []byte("x"))
	add("other/data_batch_1.bin", tar.TypeReg, []byte("x"))
	add("cifar-10-batches-bin/readme.html", tar.TypeSymlink, nil)
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestCIFARDownload(t *testing.T) {
	good := cifarTarball(t, "")
	partial := cifarTarball(t, "data_batch_4.bin")
	var hits int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		switch r.URL.Path {
		case "/good.tar.gz":
			w.Write(good)
		case "/partial.tar.gz":
			w.Write(partial)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	sum := func(b []byte) string { m := md5.Sum(b); return hex.EncodeToString(m[:]) }
	c := *CIFAR10
	c.MD5 = sum(good)
	home := t.TempDir()
	o := FindOptions{Home: home, URL: srv.URL + "/good.tar.gz", Client: srv.Client()}
	if _, _, err := c.Load(o); !errors.Is(err, ErrNotFound) || hits != 0 {
		t.Fatalf("without Download: %v, %d requests", err, hits)
	}
	o.Download = true
	train, test, err := c.Load(o)
	if err != nil || train.Len() != 5 || test.Len() != 2 || hits != 1 {
		t.Fatalf("download: %v, %d requests", err, hits)
	}
	ents, _ := os.ReadDir(filepath.Join(home, "datasets", "cifar10"))
	if len(ents) != 1 || ents[0].Name() != "cifar-10-batches-bin" {
		t.Errorf("left %v (want only the folder: no tarball, no temporary folder)", ents)
	}
	inner, _ := os.ReadDir(filepath.Join(home, "datasets", "cifar10", "cifar-10-batches-bin"))
	if len(inner) != 7 {
		t.Errorf("extracted %v", inner)
	}
	for _, evil := range []string{filepath.Join(home, "datasets", "evil.bin"), filepath.Join(home, "evil2.bin"), filepath.Join(home, "datasets", "cifar10", "evil.bin")} {
		if _, err := os.Stat(evil); err == nil {
			t.Errorf("extracted %s", evil)
		}
	}
	if c.Find(home) == "" {
		t.Error("not found after download")
	}
	if _, _, err := c.Load(o); err != nil || hits != 1 {
		t.Errorf("second load: %v, %d requests", err, hits)
	}

	// A wrong tarball is refused by its MD5; an incomplete one says what it lacks.
	home = t.TempDir()
	o = FindOptions{Home: home, Download: true, URL: srv.URL + "/partial.tar.gz", Client: srv.Client()}
	if _, _, err := c.Load(o); err == nil || !strings.Contains(err.Error(), "MD5") {
		t.Errorf("wrong MD5: %v", err)
	}
	c.MD5 = sum(partial)
	if _, _, err := c.Load(o); err == nil || !strings.Contains(err.Error(), "has no cifar-10-batches-bin/data_batch_4.bin") {
		t.Errorf("incomplete tarball: %v", err)
	}
	if c.Find(home) != "" {
		t.Error("an incomplete extraction is in place")
	}
	o.URL = srv.URL + "/missing.tar.gz"
	if _, err := c.Download(context.Background(), FindOptions{Home: t.TempDir(), URL: o.URL, Client: srv.Client()}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
}

func FuzzCIFAR(f *testing.F) {
	f.Add(cifarBatch(l1(3, 9)...), false)
	f.Add(cifarBatch([]byte{3, 99}, []byte{19, 0}), true)
	f.Add(cifarBatch(l1(10)...), false)
	f.Add(cifarBatch(l1(1, 2)...)[:4000], false)
	f.Add([]byte{}, true)
	f.Fuzz(func(t *testing.T, b []byte, hundred bool) {
		c := CIFAR10
		if hundred {
			c = CIFAR100
		}
		d, err := c.Decode("fuzz", bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		if d.Len()*c.recordLen() != len(b) {
			t.Fatalf("%d records from %d bytes", d.Len(), len(b))
		}
		// The first pixel's channels are the planes' first bytes.
		for ch := range 3 {
			if d.U8.Pix[ch] != b[c.LabelBytes+ch*cifarPlane] {
				t.Fatal("planes not interleaved")
			}
		}
	})
}
