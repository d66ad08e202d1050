// Package fetch downloads a file over HTTP(S), checks its SHA-256 and
// renames it into place only when the checksum matches, so a cache never
// holds a partial or corrupt file. Datasets and pretrained models use it.
package fetch

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"

	"github.com/dlcv-go/dlcv/internal/atomicfile"
)

// Sum is the checksum a download must have: Name (e.g. "SHA-256") for
// messages, New makes the hash, Hex is the lowercase hex digest.
type Sum struct {
	Name string
	New  func() hash.Hash
	Hex  string
}

// SHA256 is a SHA-256 Sum.
func SHA256(hex string) Sum { return Sum{Name: "SHA-256", New: sha256.New, Hex: hex} }

// MD5 is an MD5 Sum, for files whose publisher lists only that (CIFAR,
// Fashion-MNIST); prefer SHA256 wherever a SHA-256 is known.
func MD5(hex string) Sum { return Sum{Name: "MD5", New: md5.New, Hex: hex} }

// File downloads url to dst. wantSHA256 is the lowercase hex digest.
// progress, when not nil, is called with the expected size (-1 when
// unknown) and may return a writer that sees every byte (a progress bar).
func File(ctx context.Context, client *http.Client, url, dst, wantSHA256 string, progress func(size int64) io.Writer) error {
	return Checked(ctx, client, url, dst, SHA256(wantSHA256), progress)
}

// Checked is File with any checksum.
func Checked(ctx context.Context, client *http.Client, url, dst string, want Sum, progress func(size int64) io.Writer) error {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %s", url, resp.Status)
	}
	return atomicfile.Write(dst, func(w io.Writer) error {
		h := want.New()
		out := io.MultiWriter(w, h)
		if progress != nil {
			if pw := progress(resp.ContentLength); pw != nil {
				out = io.MultiWriter(out, pw)
			}
		}
		if _, err := io.Copy(out, resp.Body); err != nil {
			return fmt.Errorf("GET %s: %w", url, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want.Hex {
			return fmt.Errorf("%s has %s %s, want %s; not saved", url, want.Name, got, want.Hex)
		}
		return nil
	})
}
