// Command genv1 writes a version-1 model file with the release before the
// graph engine (commit 1882f42), for the test that such files still load
// and predict the same. Run it from a checkout of that commit:
//
//	go run ./cmd/genv1 OUTDIR
//
// It writes OUTDIR/v1_model.safetensors (a small CNN trained for a few
// steps, so that batch-norm statistics are not the defaults) and
// OUTDIR/v1_model.json (an input batch and the model's output for it).
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/optim"
	"github.com/dlcv-go/dlcv/tensor"
)

func main() {
	out := os.Args[1]
	m := nn.NewSequential(
		nn.NewConv2D(6, 3, 1, nn.Same), nn.NewReLU(), nn.NewBatchNorm(0, 0),
		nn.NewConv2D(8, 3, 2, nn.Valid), nn.NewLeakyReLU(0.1), nn.NewMaxPool2D(2, 2),
		nn.NewAveragePool2D(1, 1), nn.NewDropout(0.3), nn.NewFlatten(),
		nn.NewDense(12), nn.NewELU(1), nn.NewDense(5), nn.NewTanh(), nn.NewDense(3), nn.NewSigmoid(),
		nn.NewDense(3), nn.NewSoftmax(),
	)
	must(m.Build([]int{11, 11, 2}, 7))
	rng := nn.NewRNG(3)
	x := tensor.New(4, 11, 11, 2)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	y := tensor.New(4, 3)
	for i := range 4 {
		y.Data[i*3+i%3] = 1
	}
	opt := optim.NewSGD(0.05, 0.9, false)
	for range 5 {
		_, err := m.TrainStep(x, y, nn.NewCategoricalCrossEntropy())
		must(err)
		must(opt.Step(m.Params()))
	}
	p, err := m.Predict(x)
	must(err)
	must(nn.SaveFile(filepath.Join(out, "v1_model.safetensors"), m, map[string]string{"note": "written by the v1 release"}))
	j, _ := json.Marshal(map[string]any{"x_shape": x.Shape, "x": x.Data, "y_shape": p.Shape, "y": p.Data})
	must(os.WriteFile(filepath.Join(out, "v1_model.json"), j, 0o644))
	fmt.Println("wrote", out)
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
