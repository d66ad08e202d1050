// Package fetch downloads a file over HTTP(S), checks its SHA-256 and
// renames it into place only when the checksum matches, so a cache never
// holds a partial or corrupt file. Datasets and pretrained models use it.
package fetch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"

	"github.com/dlcv-go/dlcv/internal/atomicfile"
)

// File downloads url to dst. wantSHA256 is the lowercase hex digest.
// progress, when not nil, is called with the expected size (-1 when
// unknown) and may return a writer that sees every byte (a progress bar).
func File(ctx context.Context, client *http.Client, url, dst, wantSHA256 string, progress func(size int64) io.Writer) error {
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
		h := sha256.New()
		out := io.MultiWriter(w, h)
		if progress != nil {
			if pw := progress(resp.ContentLength); pw != nil {
				out = io.MultiWriter(out, pw)
			}
		}
		if _, err := io.Copy(out, resp.Body); err != nil {
			return fmt.Errorf("GET %s: %w", url, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != wantSHA256 {
			return fmt.Errorf("%s has SHA-256 %s, want %s; not saved", url, got, wantSHA256)
		}
		return nil
	})
}
