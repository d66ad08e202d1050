package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlcv-go/dlcv/internal/fetch"
)

// ErrNotFound is wrapped by the error a named dataset's Load returns when
// no copy is on this machine and FindOptions.Download is off.
var ErrNotFound = errors.New("not found on this machine")

// FindOptions say where a named dataset (FashionMNIST, CIFAR10, CIFAR100)
// may come from.
type FindOptions struct {
	// Home is dlcv's data folder (default: Home()); dataset NAME is looked
	// for, and downloaded to, Home/datasets/NAME.
	Home string
	// Download allows fetching the dataset from its publisher when no
	// local copy is found, checked against the published checksums. Off,
	// nothing is ever downloaded.
	Download bool
	// URL replaces where downloads come from: the base URL of the IDX
	// files, or the tarball's URL for CIFAR (a mirror; the checksums stay).
	URL string
	// Client makes the downloads (default: a 10-minute timeout).
	Client *http.Client
	// Log, when set, is told what is downloaded.
	Log io.Writer
}

func (o FindOptions) home() (string, error) {
	if o.Home != "" {
		return o.Home, nil
	}
	return Home()
}

func (o FindOptions) client() *http.Client {
	if o.Client != nil {
		return o.Client
	}
	return &http.Client{Timeout: 10 * time.Minute}
}

func (o FindOptions) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format, args...)
	}
}

// IDXFile is one of the files of a named MNIST-style dataset.
type IDXFile struct {
	// Name is the published file name, e.g. "train-images-idx3-ubyte.gz".
	Name string
	// MD5 is the published file's checksum, as its publisher lists it;
	// downloads are checked against it.
	MD5 string
	// SHA256 is the checksum of the uncompressed IDX file (`zcat NAME |
	// sha256sum`): every copy found or downloaded is checked against it,
	// however it is compressed.
	SHA256 string
}

// NamedIDX is an MNIST-style dataset dlcv knows by name.
type NamedIDX struct {
	Name    string // "fashion-mnist": also its folder, Home/datasets/NAME
	Title   string // "Fashion-MNIST", in messages
	Classes []string
	Files   [4]IDXFile // IDXNames order
	// BaseURL is where the publisher serves Files.
	BaseURL string
	// SystemDirs are other places a copy may be installed (a Linux
	// distribution's package), looked at after Home/datasets/NAME.
	SystemDirs []string
}

// FashionMNISTDebianDir is where Debian's dataset-fashion-mnist package
// installs the four files.
const FashionMNISTDebianDir = "/usr/share/datasets/fashion-mnist"

// FashionMNIST is Zalando's Fashion-MNIST: 60,000 training and 10,000
// test 28x28 grayscale images of 10 kinds of clothing, in MNIST's format.
//
// MD5s are those Zalando publishes for the .gz files (the README of
// github.com/zalandoresearch/fashion-mnist). The SHA-256s of the
// uncompressed files were computed from Debian's dataset-fashion-mnist
// 0.0~git20200523.55506a9-1 (`zcat FILE | sha256sum`); Debian's .gz files
// themselves are not the published bytes (their gzip headers were
// rewritten when the package was built, so their MD5s differ), which is
// why the content, not the .gz, is what every copy is checked against.
var FashionMNIST = &NamedIDX{
	Name:    "fashion-mnist",
	Title:   "Fashion-MNIST",
	Classes: []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"},
	Files: [4]IDXFile{
		{"train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
		{"train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
		{"t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
		{"t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
	},
	// The links of Zalando's README (plain HTTP; the checksums guard it).
	BaseURL:    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
	SystemDirs: []string{FashionMNISTDebianDir},
}

// Dirs lists the folders Load looks at, in order: Home/datasets/NAME,
// then SystemDirs.
func (n *NamedIDX) Dirs(home string) []string {
	return append([]string{filepath.Join(home, "datasets", n.Name)}, n.SystemDirs...)
}

func (n *NamedIDX) sums() *[4]string {
	var s [4]string
	for i, f := range n.Files {
		s[i] = f.SHA256
	}
	return &s
}

// Find returns the first of Dirs that holds the four files (by name, not
// checked), or "".
func (n *NamedIDX) Find(home string) string {
	for _, d := range n.Dirs(home) {
		if _, err := n.match(d); err == nil {
			return d
		}
	}
	return ""
}

func (n *NamedIDX) match(dir string) (*IDXFolder, error) {
	names, err := dirNames(os.DirFS(dir), ".")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return MatchIDX(dir, names, "")
}

// Load returns the training and test sets (8-bit images) from the first
// of Dirs holding the four files with the right content (each may be
// gzipped or not), else, with o.Download, from a download into
// Home/datasets/NAME. Without a copy and without Download, the error
// wraps ErrNotFound and lists what was tried.
func (n *NamedIDX) Load(o FindOptions) (train, test *Dataset, err error) {
	home, err := o.home()
	if err != nil {
		return nil, nil, err
	}
	var tried []string
	for _, d := range n.Dirs(home) {
		f, err := n.match(d)
		if err == nil {
			if train, test, err = loadIDX(os.DirFS(d), f, n.Classes, n.Title, n.sums()); err == nil {
				return train, test, nil
			}
		}
		tried = append(tried, strings.TrimPrefix(err.Error(), "data: "))
	}
	if !o.Download {
		return nil, nil, fmt.Errorf("data: %s %w; tried:\n  %s", n.Title, ErrNotFound, strings.Join(tried, "\n  "))
	}
	dir, err := n.Download(context.Background(), o)
	if err != nil {
		return nil, nil, fmt.Errorf("%w\n(no local copy either; tried:\n  %s)", err, strings.Join(tried, "\n  "))
	}
	f, err := n.match(dir)
	if err != nil {
		return nil, nil, err
	}
	return loadIDX(os.DirFS(dir), f, n.Classes, n.Title, n.sums())
}

// LoadDir reads the four files from dir (see FindIDX), with n's class
// names, without checking their checksums (a copy of one's own).
func (n *NamedIDX) LoadDir(dir string) (train, test *Dataset, err error) {
	f, err := FindIDX(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: %s", n.Title, strings.TrimPrefix(err.Error(), "data: "))
	}
	return loadIDX(os.DirFS(f.Dir), f, n.Classes, n.Title, nil)
}

// Download fetches the files Home/datasets/NAME lacks (or holds with the
// wrong content) from n.BaseURL (o.URL replaces it), checks each against
// its published MD5 and its content's SHA-256, writes it atomically, and
// returns the folder.
func (n *NamedIDX) Download(ctx context.Context, o FindOptions) (string, error) {
	home, err := o.home()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(home, "datasets", n.Name)
	base := n.BaseURL
	if o.URL != "" {
		base = o.URL
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("data: %s download: %w", n.Title, err)
	}
	for _, f := range n.Files {
		dst := filepath.Join(dir, f.Name)
		if x, err := ReadIDX(dst); err == nil && idxSHA256(x) == f.SHA256 {
			continue
		}
		url := base + f.Name
		o.logf("[INFO] downloading %s\n", url)
		if err := fetch.Checked(ctx, o.client(), url, dst, fetch.MD5(f.MD5), nil); err != nil {
			return "", fmt.Errorf("data: %s download of %s into %s failed: %w", n.Title, url, dir, err)
		}
		x, err := ReadIDX(dst)
		if err == nil && idxSHA256(x) != f.SHA256 {
			err = fmt.Errorf("content SHA-256 %s, want %s", idxSHA256(x), f.SHA256)
		}
		if err != nil {
			os.Remove(dst)
			return "", fmt.Errorf("data: %s download of %s into %s failed: %w", n.Title, url, dir, err)
		}
	}
	return dir, nil
}
