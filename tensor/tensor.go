package tensor

import (
	"fmt"
	"strings"
)

// Tensor is a dense row-major float32 array. Len(Data) == product(Shape).
type Tensor struct {
	Shape []int
	Data  []float32
}

// New returns a zeroed tensor of the given shape. It panics on a negative
// dimension, which is a programming error; use FromSlice for data from outside.
func New(shape ...int) *Tensor {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor.New: negative dimension in %v", shape))
		}
		n *= d
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// FromSlice wraps data (not copied) with the given shape.
func FromSlice(data []float32, shape ...int) (*Tensor, error) {
	n, err := numel(shape)
	if err != nil {
		return nil, err
	}
	if n != len(data) {
		return nil, fmt.Errorf("tensor: %d values do not fill shape %s (%d)", len(data), ShapeString(shape), n)
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}, nil
}

func numel(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("tensor: negative dimension in shape %s", ShapeString(shape))
		}
		n *= d
	}
	return n, nil
}

// Numel is the number of elements a shape holds.
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len is the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Dims is the number of dimensions.
func (t *Tensor) Dims() int { return len(t.Shape) }

// Reshape returns a view with a new shape over the same data. One dimension
// may be -1 and is then inferred.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	s := append([]int(nil), shape...)
	infer := -1
	n := 1
	for i, d := range s {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			return nil, fmt.Errorf("tensor: cannot reshape %s to %s", ShapeString(t.Shape), ShapeString(shape))
		default:
			n *= d
		}
	}
	if infer >= 0 {
		if n == 0 || len(t.Data)%n != 0 {
			return nil, fmt.Errorf("tensor: cannot reshape %s to %s", ShapeString(t.Shape), ShapeString(shape))
		}
		s[infer] = len(t.Data) / n
		n *= s[infer]
	}
	if n != len(t.Data) {
		return nil, fmt.Errorf("tensor: cannot reshape %s (%d values) to %s", ShapeString(t.Shape), len(t.Data), ShapeString(shape))
	}
	return &Tensor{Shape: s, Data: t.Data}, nil
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Zero sets every element to 0.
func (t *Tensor) Zero() { clear(t.Data) }

// Fill sets every element to v.
func (t *Tensor) Fill(v float32) {
	for i := range t.Data {
		t.Data[i] = v
	}
}

// offset converts a multi-index to a flat index, panicking when out of range.
func (t *Tensor) offset(idx []int) int {
	if len(idx) != len(t.Shape) {
		panic(fmt.Sprintf("tensor: index %v for shape %s", idx, ShapeString(t.Shape)))
	}
	off := 0
	for i, v := range idx {
		if v < 0 || v >= t.Shape[i] {
			panic(fmt.Sprintf("tensor: index %v out of range for shape %s", idx, ShapeString(t.Shape)))
		}
		off = off*t.Shape[i] + v
	}
	return off
}

// At returns the element at a multi-index.
func (t *Tensor) At(idx ...int) float32 { return t.Data[t.offset(idx)] }

// Set stores v at a multi-index.
func (t *Tensor) Set(v float32, idx ...int) { t.Data[t.offset(idx)] = v }

// SameShape reports whether t and u have equal shapes.
func (t *Tensor) SameShape(u *Tensor) bool { return EqualShape(t.Shape, u.Shape) }

// EqualShape reports whether two shapes are equal.
func EqualShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ShapeString formats a shape as (2, 28, 28, 1).
func ShapeString(shape []int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, d)
	}
	if len(shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

// String gives the shape and the first few values, for debugging.
func (t *Tensor) String() string {
	n := min(len(t.Data), 8)
	s := fmt.Sprintf("Tensor%s %v", ShapeString(t.Shape), t.Data[:n])
	if n < len(t.Data) {
		s = s[:len(s)-1] + " ...]"
	}
	return s
}

// Reuse returns a tensor of the given shape, reusing t's storage when its
// capacity allows (contents are then unspecified). Layers keep their output
// and gradient buffers this way so a steady-state training step allocates
// nothing. t may be nil.
func Reuse(t *Tensor, shape ...int) *Tensor {
	n := Numel(shape)
	if t == nil {
		t = &Tensor{}
	}
	if cap(t.Data) < n {
		t.Data = make([]float32, n)
	}
	t.Data = t.Data[:n]
	t.Shape = append(t.Shape[:0], shape...)
	return t
}
