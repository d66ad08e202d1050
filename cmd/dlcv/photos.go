package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlcv-go/dlcv/data"
	"github.com/dlcv-go/dlcv/internal/imagefile"
)

// photoLimits bound what one photo may cost classify, faces and predict:
// the pixels as before (64 megapixels), and the decoded bytes, which
// imagefile reads from the header (depth included) before decoding.
var photoLimits = imagefile.Limits{MaxPixels: data.DefaultMaxPixels, MaxBytes: 512 << 20}

// loadPhoto decodes a photo to 8 bits a channel, which is what every
// model takes: a 16-bit PNG costs 4 bytes a pixel, not 8 and a copy.
func loadPhoto(path string) (image.Image, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() > photoLimits.MaxBytes {
		return nil, fmt.Errorf("%s: %d bytes, over the limit of %d bytes for a photo", path, st.Size(), photoLimits.MaxBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	img, err := imagefile.Decode(context.Background(), b, photoLimits)
	if err != nil {
		var le *imagefile.LimitError
		switch {
		case errors.As(err, &le):
			return nil, fmt.Errorf("%s: %v; shrink it first", path, err)
		case errors.Is(err, imagefile.ErrFormat):
			return nil, fmt.Errorf("%s: not a readable image (JPEG, PNG, GIF, BMP, TIFF, WebP)", path)
		}
		return nil, fmt.Errorf("%s: not a readable image: %v", path, err)
	}
	return img, nil
}

// photoArgs expands the photo arguments of classify, predict, faces and
// the other per-photo commands: a folder stands for the image files in
// it and below it (by extension, in lexical order); anything else is
// kept as given, so a missing file is reported by the command, in turn.
func photoArgs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			out = append(out, a)
			continue
		}
		n := len(out)
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && data.IsImageFile(p) {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading folder %s: %w", a, err)
		}
		if len(out) == n {
			return nil, fmt.Errorf("folder %s holds no image files (%s)", a, strings.Join(data.ImageExtensions, ", "))
		}
	}
	return out, nil
}
