// Command layers prints the time per node of one ONNX model in dlcv for
// bench/onnx/layers.sh: load, one warm-up run, then REPS profiled runs on
// the input .npy (NCHW, as ONNX Runtime takes it), on a frozen graph as
// onnx.Imported.Run has it. Each line is "node<TAB>kind<TAB>ms per run".
// Threads: GOMAXPROCS.
//
//	go run ./bench/onnx/layers MODEL.onnx INPUT.npy REPS
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/npy"
	"github.com/dlcv-go/dlcv/onnx"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "layers:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 4 {
		return fmt.Errorf("usage: layers MODEL.onnx INPUT.npy REPS")
	}
	reps, err := strconv.Atoi(os.Args[3])
	if err != nil || reps < 1 {
		return fmt.Errorf("REPS %q is not a positive integer", os.Args[3])
	}
	x, err := npy.ReadFile(os.Args[2])
	if err != nil {
		return err
	}
	m, err := onnx.Load(os.Args[1], nil)
	if err != nil {
		return err
	}
	if len(m.Inputs) != 1 {
		return fmt.Errorf("%s has %d inputs; this tool feeds one", os.Args[1], len(m.Inputs))
	}
	in, err := m.Inputs[0].FromONNX(x)
	if err != nil {
		return err
	}
	g := m.Exec()
	g.SetFrozen(true)
	s := g.NewSession()
	if _, err := s.Run(false, in); err != nil {
		return err
	}
	p := &nn.Profile{}
	s.SetProfile(p)
	for range reps {
		if _, err := s.Run(false, in); err != nil {
			return err
		}
	}
	for _, n := range p.Nodes() {
		fmt.Printf("%s\t%s\t%.4f\n", n.Name, n.Kind, n.Forward.Seconds()*1000/float64(reps))
	}
	return nil
}
