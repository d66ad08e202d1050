package nn

import (
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/tensor"
)

func TestDenseGrad(t *testing.T) {
	gradCheck(t, NewDense(5), []int{3, 7}, gradOpts{Seed: 1})
	gradCheck(t, NewDense(1), []int{1, 4}, gradOpts{Seed: 2})
	gradCheck(t, &Dense{Units: 3}, []int{4, 2}, gradOpts{Seed: 3})
}

func TestDenseErrors(t *testing.T) {
	_, err := NewDense(10).Build([]int{4, 4, 3}, NewRNG(1))
	if err == nil || !strings.Contains(err.Error(), "(4, 4, 3)") || !strings.Contains(err.Error(), "Flatten") {
		t.Errorf("3-D input: %v", err)
	}
	d := NewDense(10)
	if _, err := d.Build([]int{6}, NewRNG(1)); err != nil {
		t.Fatal(err)
	}
	_, err = d.Forward(tensor.New(2, 2, 3), false)
	if err == nil || !strings.Contains(err.Error(), "(2, 2, 3)") || !strings.Contains(err.Error(), "(batch, 6)") {
		t.Errorf("wrong input: %v", err)
	}
	if _, err := d.Forward(tensor.New(2, 6), false); err != nil {
		t.Fatal(err)
	}
	_, err = d.Backward(tensor.New(2, 9))
	if err == nil || !strings.Contains(err.Error(), "(2, 9)") || !strings.Contains(err.Error(), "(2, 10)") {
		t.Errorf("wrong gradient: %v", err)
	}
	d.SkipInputGrad(true)
	if dx, err := d.Backward(tensor.New(2, 10)); err != nil || dx != nil {
		t.Errorf("skip: %v %v", dx, err)
	}
}
