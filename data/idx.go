package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// IDX is the content of an IDX file of unsigned bytes: the dimensions from
// its header and the values in row-major order.
type IDX struct {
	Dims []int
	Data []byte
}

// maxIDXBytes bounds the data an IDX header may announce (1 GiB), so that a
// corrupt header or a gzip bomb fails cleanly instead of exhausting memory.
const maxIDXBytes = 1 << 30

var idxTypes = map[byte]string{0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64"}

// ReadIDX reads an IDX file, gzip-compressed or not (told by its first two
// bytes). Errors name the file and what is wrong with it.
func ReadIDX(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	return DecodeIDX(path, bufio.NewReaderSize(f, 1<<16), st.Size())
}

// DecodeIDX parses an IDX stream of size bytes (raw or gzip); name is used
// in error messages.
func DecodeIDX(name string, r io.Reader, size int64) (*IDX, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(2)
	if err != nil {
		return nil, fmt.Errorf("idx: %s: file too short for a header (%d bytes)", name, size)
	}
	if head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("idx: %s: bad gzip header: %w", name, err)
		}
		x, err := decodeIDX(name, zr, -1, size)
		if err != nil {
			return nil, err
		}
		// The announced data must be the whole stream.
		var one [1]byte
		if n, err := io.ReadFull(zr, one[:]); n > 0 {
			return nil, fmt.Errorf("idx: %s: extra data after the %d bytes the header announces", name, len(x.Data))
		} else if err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, fmt.Errorf("idx: %s: corrupt gzip stream: %w", name, err)
		}
		return x, nil
	}
	return decodeIDX(name, br, size, size)
}

// maxDeflateRatio bounds how much deflate can expand its input (about
// 1032:1), so a compressed size bounds the data it may hold.
const maxDeflateRatio = 1032

// decodeIDX reads the header and data from r; size is the stream length
// (-1 when unknown, for a decompressed stream), compressed the length of
// the file it is decompressed from (-1 when unknown).
func decodeIDX(name string, r io.Reader, size, compressed int64) (*IDX, error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, fmt.Errorf("idx: %s: truncated header: %w", name, readErr(err))
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("idx: %s: bad magic %02x%02x%02x%02x (want 0000 then type and rank bytes)", name, magic[0], magic[1], magic[2], magic[3])
	}
	if magic[2] != 0x08 {
		t, ok := idxTypes[magic[2]]
		if !ok {
			t = "unknown"
		}
		return nil, fmt.Errorf("idx: %s: data type 0x%02x (%s) is not supported, only 0x08 unsigned byte", name, magic[2], t)
	}
	rank := int(magic[3])
	if rank == 0 {
		return nil, fmt.Errorf("idx: %s: rank 0 in header", name)
	}
	dimBytes := make([]byte, 4*rank)
	if _, err := io.ReadFull(r, dimBytes); err != nil {
		return nil, fmt.Errorf("idx: %s: truncated header (%d dimensions announced): %w", name, rank, readErr(err))
	}
	dims := make([]int, rank)
	n := int64(1)
	for i := range dims {
		d := binary.BigEndian.Uint32(dimBytes[4*i:])
		if d > maxIDXBytes {
			return nil, fmt.Errorf("idx: %s: dimension %d is %d, too large", name, i, d)
		}
		dims[i] = int(d)
		n *= int64(d)
		if n > maxIDXBytes {
			return nil, fmt.Errorf("idx: %s: dimensions %v announce more than %d bytes", name, dims[:i+1], maxIDXBytes)
		}
	}
	headLen := int64(4 + 4*rank)
	if size >= 0 && size != headLen+n {
		if size < headLen+n {
			return nil, fmt.Errorf("idx: %s: truncated: dimensions %v need %d data bytes, file has %d", name, dims, n, size-headLen)
		}
		return nil, fmt.Errorf("idx: %s: %d bytes after the %d data bytes dimensions %v need", name, size-headLen-n, n, dims)
	}
	if size >= 0 {
		data := make([]byte, n)
		if got, err := io.ReadFull(r, data); err != nil {
			return nil, fmt.Errorf("idx: %s: truncated: dimensions %v need %d data bytes, got %d: %w", name, dims, n, got, readErr(err))
		}
		return &IDX{Dims: dims, Data: data}, nil
	}
	// Unknown length (decompressing). When the compressed file is large
	// enough to hold the announced data, allocate it exactly (the data is
	// kept as it is, e.g. as a dataset's pixels); otherwise grow with the
	// data actually read, so a tiny file announcing a gigabyte allocates
	// only what it holds.
	if compressed > 0 && n <= compressed*maxDeflateRatio {
		data := make([]byte, n)
		if got, err := io.ReadFull(r, data); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("idx: %s: truncated: dimensions %v need %d data bytes, got %d", name, dims, n, got)
			}
			return nil, fmt.Errorf("idx: %s: corrupt data after %d of %d bytes: %w", name, got, n, err)
		}
		return &IDX{Dims: dims, Data: data}, nil
	}
	var buf bytes.Buffer
	buf.Grow(int(min(n, 1<<20)))
	if _, err := buf.ReadFrom(io.LimitReader(r, n)); err != nil {
		return nil, fmt.Errorf("idx: %s: corrupt data after %d of %d bytes: %w", name, buf.Len(), n, err)
	}
	if int64(buf.Len()) < n {
		return nil, fmt.Errorf("idx: %s: truncated: dimensions %v need %d data bytes, got %d", name, dims, n, buf.Len())
	}
	return &IDX{Dims: dims, Data: buf.Bytes()}, nil
}

func readErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// EncodeIDX writes x as an uncompressed IDX file of unsigned bytes.
func EncodeIDX(x *IDX) ([]byte, error) {
	if len(x.Dims) == 0 || len(x.Dims) > 255 {
		return nil, fmt.Errorf("idx: cannot encode rank %d", len(x.Dims))
	}
	n := 1
	for _, d := range x.Dims {
		n *= d
	}
	if n != len(x.Data) {
		return nil, fmt.Errorf("idx: dimensions %v need %d bytes, have %d", x.Dims, n, len(x.Data))
	}
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(x.Dims))})
	for _, d := range x.Dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(x.Data)
	return b.Bytes(), nil
}
