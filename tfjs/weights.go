package tfjs

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// WeightSpec is one entry of a weights manifest group: the name, shape and
// dtype of a tensor, and how it is stored when quantized.
type WeightSpec struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	// Dtype is the tensor's type once decoded: float32, int32 or bool.
	Dtype string `json:"dtype"`
	// Group is "model" or "optimizer" (optimizer weights are skipped by
	// importers but still take their bytes in the shard).
	Group        string        `json:"group,omitempty"`
	Quantization *Quantization `json:"quantization,omitempty"`
}

// Quantization says how a weight is stored: Dtype uint8 or uint16 holds
// q with value = q*Scale + Min (TF.js's affine quantization, also written
// by tensorflowjs_converter --quantize_uint8/uint16), float16 holds IEEE
// half floats.
type Quantization struct {
	Dtype         string   `json:"dtype"`
	Scale         *float64 `json:"scale,omitempty"`
	Min           *float64 `json:"min,omitempty"`
	OriginalDtype string   `json:"original_dtype,omitempty"`
}

// ManifestGroup is one group of the weights manifest: shard files whose
// bytes, concatenated, hold the group's weights in order.
type ManifestGroup struct {
	Paths   []string     `json:"paths"`
	Weights []WeightSpec `json:"weights"`
}

// Weight is a decoded tensor. Every dtype is carried as float32 (dlcv's
// tensors are float32 only): int32 values are exact up to 2^24 in
// magnitude, bool is 0 or 1. Ints holds the exact values of int32 and
// bool weights, for the importers' static arguments (shapes, axes).
type Weight struct {
	Name  string
	Shape []int
	Dtype string
	Data  []float32
	Ints  []int64
	// Shard is the shard file the weight starts in, Offset its byte
	// offset there (for error messages).
	Shard  string
	Offset int
}

// WeightError is a weight that does not decode (a NaN value, a bad
// dtype), with where it is stored.
type WeightError struct {
	Name   string
	Shard  string
	Offset int
	Err    error
	// Owner, when set by an importer, says what the weight belongs to:
	// `Const node "x"`, `layer "conv1" (Conv2D)`.
	Owner string
}

func (e *WeightError) Error() string {
	owner := ""
	if e.Owner != "" {
		owner = ", " + e.Owner
	}
	return fmt.Sprintf("weight %q (shard %s, byte %d%s): %v", e.Name, e.Shard, e.Offset, owner, e.Err)
}

func (e *WeightError) Unwrap() error { return e.Err }

// maxWeightElems bounds one weight's element count (2^31: 8 GiB as
// float32), so that a corrupt shape cannot ask for absurd memory before
// the shard size check refuses it.
const maxWeightElems = 1 << 31

// bytesPerValue is the stored size of one value of a dtype.
func bytesPerValue(dtype string) int {
	switch dtype {
	case "float32", "int32":
		return 4
	case "float16", "uint16":
		return 2
	case "uint8", "bool":
		return 1
	}
	return 0
}

// numel returns the element count of a manifest shape, refusing negative
// dimensions and overflow.
func numel(shape []int) (int, error) {
	if len(shape) > 32 {
		return 0, fmt.Errorf("shape %v has rank %d (at most 32)", shape, len(shape))
	}
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		if d > 0 && n > maxWeightElems/d {
			return 0, fmt.Errorf("shape %v has more than %d elements", shape, maxWeightElems)
		}
		n *= d
	}
	return n, nil
}

// storage returns the stored dtype of a spec and checks that it is one
// TF.js decodes for the spec's dtype.
func (s *WeightSpec) storage() (string, error) {
	switch s.Dtype {
	case "float32", "int32", "bool":
	case "string", "complex64":
		return "", fmt.Errorf("dtype %s is not supported (dlcv tensors are float32)", s.Dtype)
	default:
		return "", fmt.Errorf("unknown dtype %q (want float32, int32 or bool)", s.Dtype)
	}
	q := s.Quantization
	if q == nil {
		return s.Dtype, nil
	}
	switch q.Dtype {
	case "uint8", "uint16":
		if q.Scale == nil || q.Min == nil {
			return "", fmt.Errorf("quantization %s without scale and min", q.Dtype)
		}
		if math.IsNaN(*q.Scale) || math.IsInf(*q.Scale, 0) || math.IsNaN(*q.Min) || math.IsInf(*q.Min, 0) {
			return "", fmt.Errorf("quantization %s: scale %v and min %v must be finite", q.Dtype, *q.Scale, *q.Min)
		}
		if s.Dtype == "bool" {
			return "", fmt.Errorf("quantization %s of a bool weight", q.Dtype)
		}
	case "float16":
		if s.Dtype != "float32" {
			return "", fmt.Errorf("quantization float16 of a %s weight (only float32 may be stored as float16)", s.Dtype)
		}
	default:
		return "", fmt.Errorf("unknown quantization dtype %q (want uint8, uint16 or float16)", q.Dtype)
	}
	return q.Dtype, nil
}

// ByteLength is the number of bytes the weight takes in its shard.
func (s *WeightSpec) ByteLength() (int, error) {
	st, err := s.storage()
	if err != nil {
		return 0, err
	}
	n, err := numel(s.Shape)
	if err != nil {
		return 0, err
	}
	return n * bytesPerValue(st), nil
}

// shardSpan names the shard (of a group's concatenated shards) that byte
// offset off falls in, and the offset inside it.
func shardSpan(paths []string, sizes []int, off int) (string, int) {
	for i, sz := range sizes {
		if off < sz || i == len(sizes)-1 {
			return paths[i], off
		}
		off -= sz
	}
	return "", off
}

// DecodeGroup decodes the weights of one manifest group from its shards'
// contents (in the group's path order). The shards must hold exactly the
// bytes the specs need: a short or long shard is an error naming the
// files and both sizes, as are unknown dtypes and NaN values.
func DecodeGroup(g ManifestGroup, shards [][]byte) ([]*Weight, error) {
	if len(shards) != len(g.Paths) {
		return nil, fmt.Errorf("weights group: %d shard contents for %d paths %v", len(shards), len(g.Paths), g.Paths)
	}
	sizes := make([]int, len(shards))
	total := 0
	for i, s := range shards {
		sizes[i] = len(s)
		total += len(s)
	}
	need := 0
	for i := range g.Weights {
		s := &g.Weights[i]
		n, err := s.ByteLength()
		if err != nil {
			return nil, fmt.Errorf("weight %q: %w", s.Name, err)
		}
		need += n
		if need > total {
			break
		}
	}
	files := strings.Join(g.Paths, ", ")
	if files == "" {
		files = "(no shard files)"
	}
	if need != total {
		if need > total {
			// Name the first weight that does not fit.
			off := 0
			for i := range g.Weights {
				n, _ := g.Weights[i].ByteLength()
				if off+n > total {
					return nil, fmt.Errorf("weight shards %s hold %d bytes, the manifest needs more: weight %q (%s, shape %v) needs bytes %d..%d (shard missing or short)", files, total, g.Weights[i].Name, g.Weights[i].Dtype, g.Weights[i].Shape, off, off+n)
				}
				off += n
			}
		}
		return nil, fmt.Errorf("weight shards %s hold %d bytes, the manifest's %d weights take %d (sizes disagree)", files, total, len(g.Weights), need)
	}
	// Concatenate only when the group is split: most are one shard.
	var data []byte
	if len(shards) == 1 {
		data = shards[0]
	} else {
		data = make([]byte, 0, total)
		for _, s := range shards {
			data = append(data, s...)
		}
	}
	out := make([]*Weight, 0, len(g.Weights))
	off := 0
	for i := range g.Weights {
		s := &g.Weights[i]
		n, _ := s.ByteLength()
		shard, soff := shardSpan(g.Paths, sizes, off)
		w, err := decodeWeight(s, data[off:off+n])
		if err != nil {
			return nil, &WeightError{Name: s.Name, Shard: shard, Offset: soff, Err: err}
		}
		w.Shard, w.Offset = shard, soff
		out = append(out, w)
		off += n
	}
	return out, nil
}

// decodeWeight decodes one weight's bytes as TF.js's decodeWeights does:
// uint8/uint16 values become q*scale+min computed in float64 and rounded
// to float32 (int32 weights round to the nearest integer); float16 is
// widened exactly.
func decodeWeight(s *WeightSpec, b []byte) (*Weight, error) {
	st, err := s.storage()
	if err != nil {
		return nil, err
	}
	n, _ := numel(s.Shape)
	// A scalar's shape is empty, not nil: nil means unknown to nn.
	w := &Weight{Name: s.Name, Shape: append([]int{}, s.Shape...), Dtype: s.Dtype, Data: make([]float32, n)}
	ints := s.Dtype != "float32"
	if ints {
		w.Ints = make([]int64, n)
	}
	var scale, min float64
	if q := s.Quantization; q != nil && (st == "uint8" || st == "uint16") {
		scale, min = *q.Scale, *q.Min
	}
	for i := range n {
		var v float64
		switch st {
		case "float32":
			f := math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			if f != f {
				return nil, fmt.Errorf("value %d of %d is NaN", i, n)
			}
			w.Data[i] = f
			continue
		case "int32":
			v = float64(int32(binary.LittleEndian.Uint32(b[4*i:])))
		case "bool":
			if b[i] != 0 {
				v = 1
			}
		case "float16":
			f := Float16(binary.LittleEndian.Uint16(b[2*i:]))
			if f != f {
				return nil, fmt.Errorf("value %d of %d is NaN (float16 %#04x)", i, n, binary.LittleEndian.Uint16(b[2*i:]))
			}
			w.Data[i] = f
			continue
		case "uint8":
			v = float64(b[i])*scale + min
		case "uint16":
			v = float64(binary.LittleEndian.Uint16(b[2*i:]))*scale + min
		}
		if ints {
			if st != "int32" && st != "bool" {
				v = jsRound(v) // a quantized int32 weight: Math.round
			}
			if v > math.MaxInt32 || v < math.MinInt32 {
				return nil, fmt.Errorf("value %d of %d (%g) is out of the int32 range", i, n, v)
			}
			w.Ints[i] = int64(v)
		}
		w.Data[i] = float32(v)
	}
	return w, nil
}

// jsRound is JavaScript's Math.round: halves go towards +Inf.
func jsRound(v float64) float64 { return math.Floor(v + 0.5) }

// Float16 widens an IEEE 754 half-precision value to float32 (exact).
func Float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalise
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// flexInt decodes an integer written as a JSON number or string (proto3's
// JSON form writes int64 as strings).
type flexInt int64

func (v *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	var n json.Number = json.Number(s)
	i, err := n.Int64()
	if err != nil {
		return fmt.Errorf("bad integer %s", b)
	}
	*v = flexInt(i)
	return nil
}

// flexFloat decodes a float written as a JSON number or as one of proto3's
// strings "NaN", "Infinity", "-Infinity".
type flexFloat float64

func (v *flexFloat) UnmarshalJSON(b []byte) error {
	switch s := string(b); s {
	case `"NaN"`:
		*v = flexFloat(math.NaN())
	case `"Infinity"`:
		*v = flexFloat(math.Inf(1))
	case `"-Infinity"`:
		*v = flexFloat(math.Inf(-1))
	default:
		var f float64
		if err := json.Unmarshal([]byte(strings.Trim(s, `"`)), &f); err != nil {
			return fmt.Errorf("bad number %s", b)
		}
		*v = flexFloat(f)
	}
	return nil
}
