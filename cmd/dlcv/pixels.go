package main

import (
	"fmt"
	"image"
	"io"

	"github.com/dlcv-go/dlcv/imgproc"
)

func init() {
	register(&command{
		name:    "pixels",
		summary: "print an image's pixel values as a matrix of numbers",
		run:     runPixels,
	})
}

func runPixels(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("pixels", "IMAGE [--region x,y,w,h] [--channel r|g|b|gray]",
		`  dlcv pixels photo.jpg --region 120,80,8,6
  dlcv pixels photo.jpg --region 120,80,8,6 --channel r
  dlcv pixels photo.jpg --region 120,80,16,16 | dlcv convolve --matrix - --kernel sobel-x`, stderr)
	region := fs.String("region", "", "`x,y,w,h` of the block to print (default: the whole image)")
	channel := fs.String("channel", "gray", "r, g, b or gray (0.299 R + 0.587 G + 0.114 B, as OpenCV)")
	pos, err := parseFlagsAnyOrder(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("want one IMAGE argument, got %d", len(pos))
	}
	c, err := imgproc.ParseChannel(*channel)
	if err != nil {
		return usageErrorf("--channel: %v", err)
	}
	img, err := imgproc.Load(pos[0])
	if err != nil {
		return err
	}
	b := img.Bounds()
	r := image.Rect(0, 0, b.Dx(), b.Dy())
	if *region != "" {
		if r, err = imgproc.ParseRegion(*region); err != nil {
			return usageErrorf("--region: %v", err)
		}
	}
	m, err := imgproc.PixelMatrix(img, r, c)
	if err != nil {
		return err
	}
	// The description goes to stderr so stdout pipes into convolve --matrix.
	fmt.Fprintf(stderr, "%s: %dx%d image; %s values of region x=%d y=%d w=%d h=%d (one image row a line)\n",
		pos[0], b.Dx(), b.Dy(), *channel, r.Min.X, r.Min.Y, r.Dx(), r.Dy())
	return imgproc.WriteMatrix(stdout, m)
}
