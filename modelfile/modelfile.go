// Package modelfile recognises model files by their content, not their
// name: a dlcv/safetensors file, an ONNX model, a TFLite flatbuffer, a
// TensorFlow.js model.json, and a few files people mistake for models
// (NumPy arrays, images, archives), so that a command given the wrong
// kind of file says what it is and what was expected.
package modelfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"google.golang.org/protobuf/encoding/protowire"
)

// Kind is a kind of file.
type Kind string

// The kinds Sniff tells apart.
const (
	Unknown     Kind = ""
	Safetensors Kind = "safetensors" // dlcv model files are safetensors
	ONNX        Kind = "onnx"
	TFLite      Kind = "tflite"
	TFJS        Kind = "tfjs" // a TensorFlow.js model.json
	NumPy       Kind = "npy"
	Zip         Kind = "zip" // PyTorch .pt, Keras .keras, NumPy .npz
	HDF5        Kind = "hdf5"
	Image       Kind = "image"
	Pickle      Kind = "pickle"
)

var names = map[Kind]string{
	Unknown:     "a file of unknown kind",
	Safetensors: "a safetensors file (dlcv model)",
	ONNX:        "an ONNX model",
	TFLite:      "a TFLite flatbuffer",
	TFJS:        "a TensorFlow.js model (model.json)",
	NumPy:       "a NumPy array (.npy)",
	Zip:         "a zip archive (a PyTorch .pt, Keras .keras or NumPy .npz file?)",
	HDF5:        "an HDF5 file (a Keras .h5 model?)",
	Image:       "an image",
	Pickle:      "a Python pickle (a PyTorch checkpoint?)",
}

// Describe names a kind for messages ("an ONNX model").
func (k Kind) Describe() string {
	if s, ok := names[k]; ok {
		return s
	}
	return string(k)
}

// HeadSize is how many leading bytes Sniff needs at most (a TF.js
// model.json is recognised from its keys, which come early).
const HeadSize = 64 << 10

// Sniff tells the kind of a file from its first bytes.
func Sniff(head []byte) Kind {
	switch {
	case len(head) >= 8 && string(head[4:8]) == "TFL3":
		return TFLite
	case bytes.HasPrefix(head, []byte("\x93NUMPY")):
		return NumPy
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return Zip
	case bytes.HasPrefix(head, []byte("\x89HDF\r\n\x1a\n")):
		return HDF5
	case bytes.HasPrefix(head, []byte("\x89PNG")), bytes.HasPrefix(head, []byte("\xff\xd8\xff")),
		bytes.HasPrefix(head, []byte("GIF8")), bytes.HasPrefix(head, []byte("BM")) && len(head) > 14 && isBMP(head):
		return Image
	case len(head) >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5:
		return Pickle
	}
	if isSafetensors(head) {
		return Safetensors
	}
	if isTFJS(head) {
		return TFJS
	}
	if isONNX(head) {
		return ONNX
	}
	return Unknown
}

func isBMP(h []byte) bool {
	off := binary.LittleEndian.Uint32(h[10:14])
	return off >= 26 && off < 1<<20
}

// isSafetensors: an 8-byte little-endian header length, then a JSON
// object.
func isSafetensors(h []byte) bool {
	if len(h) < 10 {
		return false
	}
	n := binary.LittleEndian.Uint64(h[:8])
	return n >= 2 && n < 100<<20 && h[8] == '{'
}

// isTFJS: a JSON object with TensorFlow.js's keys.
func isTFJS(h []byte) bool {
	t := bytes.TrimLeft(h, " \t\r\n\xef\xbb\xbf")
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	if bytes.Contains(t, []byte(`"modelTopology"`)) || bytes.Contains(t, []byte(`"weightsManifest"`)) {
		return true
	}
	// A complete small document can be checked properly.
	var doc map[string]json.RawMessage
	if json.Unmarshal(h, &doc) == nil {
		_, a := doc["modelTopology"]
		_, b := doc["weightsManifest"]
		return a || b
	}
	return false
}

// isONNX: the leading fields are those of a ModelProto (ir_version,
// opset_import, producer, graph ...) with their wire types, and one of
// ir_version or graph is there.
func isONNX(h []byte) bool {
	wire := map[protowire.Number]protowire.Type{
		1: protowire.VarintType, 2: protowire.BytesType, 3: protowire.BytesType, 4: protowire.BytesType,
		5: protowire.VarintType, 6: protowire.BytesType, 7: protowire.BytesType, 8: protowire.BytesType,
		14: protowire.BytesType, 20: protowire.BytesType, 25: protowire.BytesType,
	}
	fields, core := 0, false
	for b := h; len(b) > 0 && fields < 16; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		want, ok := wire[num]
		if !ok || want != typ {
			return false
		}
		b = b[n:]
		if num == 1 || num == 7 {
			core = true
		}
		if num == 1 {
			v, m := protowire.ConsumeVarint(b)
			if m < 0 || v == 0 || v > 100 {
				return false
			}
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			// The head ends inside a large field (the graph): the tags so
			// far decide.
			return core || (num == 7 && typ == protowire.BytesType)
		}
		b = b[m:]
		fields++
	}
	return core
}

// SniffFile reads the head of a file and sniffs it.
func SniffFile(path string) (Kind, error) {
	f, err := os.Open(path)
	if err != nil {
		return Unknown, err
	}
	defer f.Close()
	head := make([]byte, HeadSize)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return Unknown, fmt.Errorf("%s: %w", path, err)
	}
	return Sniff(head[:n]), nil
}

// Expect checks that path holds one of the kinds want; the error says
// what the file is and what was expected.
func Expect(path string, want ...Kind) (Kind, error) {
	k, err := SniffFile(path)
	if err != nil {
		return k, err
	}
	for _, w := range want {
		if k == w {
			return k, nil
		}
	}
	exp := ""
	for i, w := range want {
		switch {
		case i == 0:
		case i == len(want)-1:
			exp += " or "
		default:
			exp += ", "
		}
		exp += w.Describe()
	}
	return k, fmt.Errorf("%s is %s, not %s", path, k.Describe(), exp)
}
