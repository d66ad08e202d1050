package train

import (
	"encoding/binary"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/optim"
	"github.com/dlcv-go/dlcv/safetensors"
	"github.com/dlcv-go/dlcv/tensor"
)

func fuzzNet(t testing.TB) nn.Model {
	m := nn.NewSequential(nn.NewFlatten(), nn.NewDense(3), nn.NewSoftmax())
	if err := m.Build([]int{2, 2, 1}, 1); err != nil {
		t.Fatal(err)
	}
	return m
}

// FuzzLoadCheckpoint fuzzes what a checkpoint adds to a model file: the
// epoch, optimizer and history metadata and the optimizer's slot tensors
// (the container and the architecture have FuzzDecode and FuzzModelFile).
// The reader must return a checkpoint or an error, and a checkpoint it
// returns must restore into its model and take a training step.
func FuzzLoadCheckpoint(f *testing.F) {
	dir := f.TempDir()
	var base *safetensors.File
	for _, opt := range []optim.Optimizer{optim.NewSGD(0.1, 0.9, true), optim.NewAdam(0.01, 0, 0, 0), optim.NewRMSprop(0.01, 0, 0)} {
		m := fuzzNet(f)
		x, y := tensor.New(2, 2, 2, 1), tensor.New(2, 3)
		y.Data[0], y.Data[5] = 1, 1
		if _, err := m.TrainStep(x, y, nn.NewCategoricalCrossEntropy()); err != nil {
			f.Fatal(err)
		}
		opt.Step(m.Params())
		h := &History{Epochs: []EpochLogs{{Epoch: 1, Loss: 0.5, Accuracy: 0.5, ValLoss: math.NaN(), ValAccuracy: math.NaN()}}}
		p := filepath.Join(dir, "c.safetensors")
		if err := SaveCheckpoint(p, m, opt, h, map[string]string{"training": `{"seed":1}`}); err != nil {
			f.Fatal(err)
		}
		file, err := safetensors.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		base = file
		var slots []string
		var data []byte
		for name, t := range file.Tensors {
			if s, ok := strings.CutPrefix(name, optimPrefix); ok {
				slots = append(slots, s)
				for _, v := range t.Data {
					data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
				}
			}
		}
		f.Add(file.Metadata[metaEpoch], file.Metadata[metaOptimizer], file.Metadata[metaHistory], strings.Join(slots, ","), data)
	}
	f.Fuzz(func(t *testing.T, epoch, optimizer, history, slots string, data []byte) {
		file := &safetensors.File{Metadata: map[string]string{}, Tensors: map[string]safetensors.Tensor{}}
		for k, v := range base.Metadata {
			file.Metadata[k] = v
		}
		delete(file.Metadata, "dlcv.sha256") // the slots change
		file.Metadata[metaEpoch], file.Metadata[metaOptimizer], file.Metadata[metaHistory] = epoch, optimizer, history
		for k, v := range base.Tensors {
			if !strings.HasPrefix(k, optimPrefix) {
				file.Tensors[k] = v
			}
		}
		// The slot bytes are shared out among the named slots.
		names := strings.Split(slots, ",")
		per := len(data) / 4 / len(names)
		for i, n := range names {
			v := make([]float32, per)
			for j := range v {
				v[j] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*(i*per+j):]))
			}
			file.Tensors[optimPrefix+n] = safetensors.Tensor{Shape: []int{per}, Data: v}
		}
		c, err := checkpointFromFile(file, "fuzz.safetensors")
		if err != nil {
			return
		}
		if c.Epoch != len(c.History.Epochs) {
			t.Fatalf("epoch %d with %d epochs of history", c.Epoch, len(c.History.Epochs))
		}
		var opt optim.Optimizer
		switch c.OptimizerName() {
		case "sgd":
			opt = optim.NewSGD(0.1, 0.9, false)
		case "adam":
			opt = optim.NewAdam(0.01, 0, 0, 0)
		case "rmsprop":
			opt = optim.NewRMSprop(0.01, 0, 0)
		default:
			return
		}
		m := fuzzNet(t)
		if err := c.restore(m, opt); err != nil {
			return
		}
		x, y := tensor.New(1, 2, 2, 1), tensor.New(1, 3)
		y.Data[1] = 1
		if _, err := m.TrainStep(x, y, nn.NewCategoricalCrossEntropy()); err == nil {
			opt.Step(m.Params())
		}
	})
}
