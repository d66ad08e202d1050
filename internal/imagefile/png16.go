package imagefile

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"image"
	"io"
)

// A 16-bit PNG is read here rather than by image/png, which would hold it
// at 8 bytes a pixel: the rows are inflated and unfiltered one at a time
// and their high bytes stored. The chunk rules and errors follow
// image/png's reader, so a file decodes here exactly when it decodes there
// (FuzzDecodePNG16 checks both ways).

const pngSignature = "\x89PNG\r\n\x1a\n"

// PNG colour types.
const (
	ctGray      = 0
	ctRGB       = 2
	ctGrayAlpha = 4
	ctRGBA      = 6
)

type pngHeader struct {
	width, height int
	colorType     byte
}

func (h pngHeader) channels() int {
	return map[byte]int{ctGray: 1, ctRGB: 3, ctGrayAlpha: 2, ctRGBA: 4}[h.colorType]
}

// fastPNG reports whether data is a PNG this file decodes: 16 bits per
// channel, not interlaced, no tRNS chunk before the image data (which
// image/png would apply as transparency).
func fastPNG(data []byte) (pngHeader, bool) {
	if len(data) < 8+8+13 || string(data[:8]) != pngSignature || string(data[12:16]) != "IHDR" || binary.BigEndian.Uint32(data[8:12]) != 13 {
		return pngHeader{}, false
	}
	ihdr := data[16:29]
	w, h := int32(binary.BigEndian.Uint32(ihdr[0:4])), int32(binary.BigEndian.Uint32(ihdr[4:8]))
	depth, ct := ihdr[8], ihdr[9]
	if w <= 0 || h <= 0 || depth != 16 || ihdr[10] != 0 || ihdr[11] != 0 || ihdr[12] != 0 {
		return pngHeader{}, false
	}
	switch ct {
	case ctGray, ctRGB, ctGrayAlpha, ctRGBA:
	default:
		return pngHeader{}, false
	}
	// Walk the chunk headers up to the first IDAT.
	for off := 8 + 8 + 13 + 4; ; {
		if off+8 > len(data) {
			return pngHeader{}, false
		}
		n := int64(binary.BigEndian.Uint32(data[off:]))
		switch string(data[off+4 : off+8]) {
		case "IDAT":
			return pngHeader{int(w), int(h), ct}, true
		case "tRNS", "IHDR":
			return pngHeader{}, false
		}
		if n > 0x7fffffff || int64(off)+12+n > int64(len(data)) {
			return pngHeader{}, false
		}
		off += 12 + int(n)
	}
}

var errChunkOrder = errors.New("png: chunk out of order")

// png16 is the state of one decode, as image/png's decoder.
type png16 struct {
	ctx        context.Context
	r          *bytes.Reader
	h          pngHeader
	crc        hash.Hash32
	tmp        [16]byte
	idatLength uint32
}

func decodePNG16(ctx context.Context, data []byte, h pngHeader) (image.Image, error) {
	d := &png16{ctx: ctx, r: bytes.NewReader(data[8:]), h: h, crc: crc32.NewIEEE()}
	const (
		start = iota
		seenIHDR
		seenPLTE
		seenIDAT
		seenIEND
	)
	stage := start
	var img image.Image
	for stage != seenIEND {
		if _, err := io.ReadFull(d.r, d.tmp[:8]); err != nil {
			return nil, pngEOF(err)
		}
		length := binary.BigEndian.Uint32(d.tmp[:4])
		d.crc.Reset()
		d.crc.Write(d.tmp[4:8])
		var err error
		switch string(d.tmp[4:8]) {
		case "IHDR":
			if stage != start {
				return nil, errChunkOrder
			}
			stage = seenIHDR
			err = d.skip(length) // fastPNG read it
		case "PLTE":
			if stage != seenIHDR {
				return nil, errChunkOrder
			}
			stage = seenPLTE
			if np := length / 3; length%3 != 0 || np == 0 || np > 256 {
				return nil, errors.New("png: bad PLTE length")
			}
			if h.colorType != ctRGB && h.colorType != ctRGBA {
				return nil, errors.New("png: PLTE, color type mismatch")
			}
			err = d.skip(length) // optional and ignored for true colour
		case "tRNS":
			// Only reached after the image data (fastPNG), where it is
			// out of order.
			return nil, errChunkOrder
		case "IDAT":
			if stage < seenIHDR || stage > seenIDAT {
				return nil, errChunkOrder
			}
			if stage == seenIDAT {
				err = d.skip(length) // trailing IDAT chunks are ignored
				break
			}
			stage = seenIDAT
			d.idatLength = length
			if img, err = d.decode(); err == nil {
				err = d.verifyChecksum()
			}
		case "IEND":
			if stage != seenIDAT {
				return nil, errChunkOrder
			}
			stage = seenIEND
			if length != 0 {
				return nil, errors.New("png: bad IEND length")
			}
			err = d.verifyChecksum()
		default:
			if length > 0x7fffffff {
				return nil, fmt.Errorf("png: bad chunk length: %d", length)
			}
			err = d.skip(length)
		}
		if err != nil {
			return nil, pngEOF(err)
		}
	}
	return img, nil
}

func pngEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// skip reads a chunk's data into the checksum and verifies it.
func (d *png16) skip(length uint32) error {
	if _, err := io.CopyN(d.crc, d.r, int64(length)); err != nil {
		return err
	}
	return d.verifyChecksum()
}

func (d *png16) verifyChecksum() error {
	if _, err := io.ReadFull(d.r, d.tmp[:4]); err != nil {
		return err
	}
	if binary.BigEndian.Uint32(d.tmp[:4]) != d.crc.Sum32() {
		return errors.New("png: invalid checksum")
	}
	return nil
}

// Read returns the image data of consecutive IDAT chunks.
func (d *png16) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for d.idatLength == 0 {
		if err := d.verifyChecksum(); err != nil {
			return 0, err
		}
		if _, err := io.ReadFull(d.r, d.tmp[:8]); err != nil {
			return 0, err
		}
		d.idatLength = binary.BigEndian.Uint32(d.tmp[:4])
		if string(d.tmp[4:8]) != "IDAT" {
			return 0, errors.New("png: not enough pixel data")
		}
		d.crc.Reset()
		d.crc.Write(d.tmp[4:8])
	}
	n, err := d.r.Read(p[:min(len(p), int(d.idatLength))])
	d.crc.Write(p[:n])
	d.idatLength -= uint32(n)
	return n, err
}

// decode inflates and unfilters the rows into an 8-bit image.
func (d *png16) decode() (image.Image, error) {
	zr, err := zlib.NewReader(d)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	w, h, ch := d.h.width, d.h.height, d.h.channels()
	bpp := 2 * ch // bytes per pixel in the file
	rowSize := int64(w) * int64(bpp)
	if rowSize > 1<<30 {
		return nil, errors.New("png: dimension overflow")
	}
	var img image.Image
	var pix []uint8
	var stride int
	switch d.h.colorType {
	case ctGray:
		g := image.NewGray(image.Rect(0, 0, w, h))
		img, pix, stride = g, g.Pix, g.Stride
	case ctRGB:
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		img, pix, stride = m, m.Pix, m.Stride
	default:
		m := image.NewNRGBA(image.Rect(0, 0, w, h))
		img, pix, stride = m, m.Pix, m.Stride
	}
	cr := make([]uint8, 1+rowSize)
	pr := make([]uint8, 1+rowSize)
	for y := range h {
		if y%64 == 0 {
			if err := d.ctx.Err(); err != nil {
				return nil, err
			}
		}
		if _, err := io.ReadFull(zr, cr); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, errors.New("png: not enough pixel data")
			}
			return nil, err
		}
		cdat, pdat := cr[1:], pr[1:]
		if err := unfilter(cr[0], cdat, pdat, bpp); err != nil {
			return nil, err
		}
		row := pix[y*stride:]
		switch d.h.colorType {
		case ctGray:
			for x := range w {
				row[x] = cdat[2*x]
			}
		case ctRGB:
			for x := range w {
				s := cdat[6*x:]
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = s[0], s[2], s[4], 0xff
			}
		case ctGrayAlpha:
			for x := range w {
				s := cdat[4*x:]
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = s[0], s[0], s[0], s[2]
			}
		case ctRGBA:
			for x := range w {
				s := cdat[8*x:]
				row[4*x], row[4*x+1], row[4*x+2], row[4*x+3] = s[0], s[2], s[4], s[6]
			}
		}
		pr, cr = cr, pr
	}
	// Check for EOF, to verify the zlib checksum (as image/png does).
	n := 0
	for i := 0; n == 0 && err == nil; i++ {
		if i == 100 {
			return nil, io.ErrNoProgress
		}
		n, err = zr.Read(d.tmp[:1])
	}
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("png: %v", err)
	}
	if n != 0 || d.idatLength != 0 {
		return nil, errors.New("png: too much pixel data")
	}
	return img, nil
}

// unfilter reverses a row's PNG filter in place; prev is the previous
// row, already unfiltered (zeros for the first).
func unfilter(filter byte, cur, prev []uint8, bpp int) error {
	switch filter {
	case 0: // none
	case 1: // sub
		for i := bpp; i < len(cur); i++ {
			cur[i] += cur[i-bpp]
		}
	case 2: // up
		for i, p := range prev {
			cur[i] += p
		}
	case 3: // average
		for i := range bpp {
			cur[i] += prev[i] / 2
		}
		for i := bpp; i < len(cur); i++ {
			cur[i] += uint8((int(cur[i-bpp]) + int(prev[i])) / 2)
		}
	case 4: // Paeth
		for i := range cur {
			var a, c int
			if i >= bpp {
				a, c = int(cur[i-bpp]), int(prev[i-bpp])
			}
			cur[i] += paeth(a, int(prev[i]), c)
		}
	default:
		return errors.New("png: bad filter type")
	}
	return nil
}

func paeth(a, b, c int) uint8 {
	p := a + b - c
	pa, pb, pc := abs(p-a), abs(p-b), abs(p-c)
	if pa <= pb && pa <= pc {
		return uint8(a)
	}
	if pb <= pc {
		return uint8(b)
	}
	return uint8(c)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
