package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"

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
