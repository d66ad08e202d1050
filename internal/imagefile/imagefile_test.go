package imagefile

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"runtime"
	"testing"
)

// deepImages returns 16-bit test images of every kind image/png writes,
// with content that makes the encoder use every row filter.
func deepImages(w, h int) map[string]image.Image {
	rng := rand.New(rand.NewPCG(1, 2))
	g := image.NewGray16(image.Rect(0, 0, w, h))
	rgb := image.NewRGBA64(image.Rect(0, 0, w, h))
	rgba := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint16(x*2048 + y*977)
			if y%3 == 0 {
				v = uint16(rng.Uint32())
			}
			g.SetGray16(x, y, color.Gray16{v})
			rgb.SetRGBA64(x, y, color.RGBA64{v, uint16(x * 300), ^v, 0xffff})
			rgba.SetNRGBA64(x, y, color.NRGBA64{v, uint16(y * 500), uint16(rng.Uint32()), uint16(x * 1000)})
		}
	}
	return map[string]image.Image{"gray16": g, "rgb16": rgb, "rgba16": rgba}
}

func encode(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// grayAlpha16 writes a 16-bit gray+alpha PNG (colour type 4, which
// image/png reads but does not write), filter none.
func grayAlpha16(w, h int, pix func(x, y int) (uint16, uint16)) []byte {
	var raw bytes.Buffer
	for y := range h {
		raw.WriteByte(0)
		for x := range w {
			v, a := pix(x, y)
			binary.Write(&raw, binary.BigEndian, [2]uint16{v, a})
		}
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw.Bytes())
	zw.Close()
	var out bytes.Buffer
	out.WriteString(pngSignature)
	chunk := func(typ string, data []byte) {
		binary.Write(&out, binary.BigEndian, uint32(len(data)))
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.Write(&out, binary.BigEndian, c.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 16, ctGrayAlpha
	chunk("IHDR", ihdr)
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// want8 is what Decode must return for data: image/png's decode reduced
// to 8 bits.
func want8(t testing.TB, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return To8Bit(img)
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	switch a := a.(type) {
	case *image.Gray:
		b, ok := b.(*image.Gray)
		return ok && bytes.Equal(a.Pix, b.Pix)
	case *image.RGBA:
		b, ok := b.(*image.RGBA)
		return ok && bytes.Equal(a.Pix, b.Pix)
	case *image.NRGBA:
		b, ok := b.(*image.NRGBA)
		return ok && bytes.Equal(a.Pix, b.Pix)
	}
	return false
}

func TestDecodePNG16MatchesImagePNG(t *testing.T) {
	files := map[string][]byte{"gray-alpha16": grayAlpha16(37, 21, func(x, y int) (uint16, uint16) { return uint16(x * 1777), uint16(y * 3001) })}
	for name, img := range deepImages(53, 29) {
		files[name] = encode(t, img)
	}
	for name, data := range files {
		if _, ok := fastPNG(data); !ok {
			t.Fatalf("%s: not read row by row", name)
		}
		got, err := Decode(context.Background(), data, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := want8(t, data); !samePixels(got, want) {
			t.Fatalf("%s: got a %T that differs from image/png's %T reduced to 8 bits", name, got, want)
		}
	}
}

// An 8-bit image comes back as image/png decodes it.
func TestDecode8BitUnchanged(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 9, 7))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 0xff
	}
	got, err := Decode(context.Background(), encode(t, img), Limits{})
	if err != nil || !samePixels(got, img) {
		t.Fatalf("%T %v", got, err)
	}
}

// A 16-bit PNG costs its 8-bit size to decode, not the 8 bytes a pixel
// that image/png allocates (defect: 498 KB files costing over 1 GB).
func TestDecodePNG16Memory(t *testing.T) {
	const w, h = 1500, 1000
	data := encode(t, deepImages(w, h)["rgb16"])
	info, err := Inspect(data)
	if err != nil {
		t.Fatal(err)
	}
	if info.Depth != 16 || info.DecodeBytes != 4*w*h {
		t.Fatalf("Inspect: %+v, want 16-bit and %d decode bytes", info, 4*w*h)
	}
	alloc := func(f func()) uint64 {
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		f()
		runtime.ReadMemStats(&b)
		return b.TotalAlloc - a.TotalAlloc
	}
	n := alloc(func() {
		if _, err := Decode(context.Background(), data, Limits{}); err != nil {
			t.Fatal(err)
		}
	})
	if n > 4*w*h+w*h/2 {
		t.Fatalf("decoding a %dx%d 16-bit PNG allocated %d bytes, want about %d", w, h, n, 4*w*h)
	}
	std := alloc(func() { png.Decode(bytes.NewReader(data)) })
	t.Logf("row by row: %.1f bytes a pixel; image/png: %.1f", float64(n)/(w*h), float64(std)/(w*h))
}

func TestInspectAndLimits(t *testing.T) {
	var jb bytes.Buffer
	jpeg.Encode(&jb, image.NewRGBA(image.Rect(0, 0, 40, 30)), nil)
	var gb bytes.Buffer
	png.Encode(&gb, image.NewGray(image.Rect(0, 0, 40, 30)))
	for _, c := range []struct {
		name  string
		data  []byte
		bytes int64
		depth int
	}{
		{"jpeg", jb.Bytes(), 3 * 1200, 8},
		{"gray8", gb.Bytes(), 1200, 8},
		{"gray16", encode(t, image.NewGray16(image.Rect(0, 0, 40, 30))), 1200, 16},
		{"rgba16", encode(t, deepImages(40, 30)["rgba16"]), 4 * 1200, 16},
	} {
		info, err := Inspect(c.data)
		if err != nil || info.DecodeBytes != c.bytes || info.Depth != c.depth || info.Width != 40 || info.Height != 30 {
			t.Errorf("%s: %+v %v, want %d bytes, %d-bit", c.name, info, err, c.bytes, c.depth)
		}
		_, err = Decode(context.Background(), c.data, Limits{MaxBytes: c.bytes - 1})
		var le *LimitError
		if !errors.As(err, &le) || le.Pixels || le.Limit != c.bytes-1 {
			t.Errorf("%s: over the bytes limit: %v", c.name, err)
		}
		_, err = Decode(context.Background(), c.data, Limits{MaxPixels: 1199})
		if !errors.As(err, &le) || !le.Pixels {
			t.Errorf("%s: over the pixel limit: %v", c.name, err)
		}
	}
	if _, err := Inspect([]byte("hello")); !errors.Is(err, ErrFormat) {
		t.Fatalf("text: %v", err)
	}
}

func TestDecodeStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, img := range deepImages(20, 100) {
		if _, err := Decode(ctx, encode(t, img), Limits{}); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: %v", name, err)
		}
	}
	var jb bytes.Buffer
	jpeg.Encode(&jb, image.NewRGBA(image.Rect(0, 0, 40, 30)), nil)
	if _, err := Decode(ctx, jb.Bytes(), Limits{}); !errors.Is(err, context.Canceled) {
		t.Errorf("jpeg: %v", err)
	}
}

// FuzzDecodePNG16 checks the row-by-row reader against image/png: a file
// decodes in one exactly when it decodes in the other, to the same pixels.
func FuzzDecodePNG16(f *testing.F) {
	for _, img := range deepImages(7, 5) {
		f.Add(encode(f, img))
	}
	f.Add(grayAlpha16(3, 4, func(x, y int) (uint16, uint16) { return uint16(x << 12), uint16(y << 13) }))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := png.DecodeConfig(bytes.NewReader(data))
		if err != nil || int64(cfg.Width)*int64(cfg.Height) > 1<<16 {
			return
		}
		got, err := Decode(context.Background(), data, Limits{MaxPixels: 1 << 16})
		std, stdErr := png.Decode(bytes.NewReader(data))
		if (err == nil) != (stdErr == nil) {
			t.Fatalf("Decode: %v; image/png: %v", err, stdErr)
		}
		if err == nil && !samePixels(got, To8Bit(std)) && !samePixels(got, std) {
			t.Fatalf("pixels differ: %T vs %T", got, std)
		}
	})
}
