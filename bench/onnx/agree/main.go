// Command agree imports every model of a bench/onnx export folder with
// dlcv and compares its outputs with ONNX Runtime's (ort_run.js): the
// largest absolute difference over the largest absolute reference value,
// for batch 1 and 4, against a bound of 1e-4. It prints a Markdown table
// (docs/import.md records it) and exits 1 if a model is off. It times
// nothing: ONNX Runtime ran earlier, in another process, so a ratio of
// times taken apart would measure the machine's load more than the
// runtimes.
//
//	go run ./bench/onnx/agree OUTDIR
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/dlcv-go/dlcv/npy"
	"github.com/dlcv-go/dlcv/onnx"
	"github.com/dlcv-go/dlcv/tensor"
)

type manifest struct {
	Inputs map[string]string `json:"inputs"`
	Models []struct {
		Name   string `json:"name"`
		File   string `json:"file"`
		Params int    `json:"params"`
	} `json:"models"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: agree OUTDIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		fail(err)
	}
	var man manifest
	if err := json.Unmarshal(b, &man); err != nil {
		fail(err)
	}
	batches := make([]string, 0, len(man.Inputs))
	for k := range man.Inputs {
		batches = append(batches, k)
	}
	sort.Strings(batches)
	inputs := map[string]*tensor.Tensor{}
	for _, k := range batches {
		if inputs[k], err = npy.ReadFile(filepath.Join(dir, man.Inputs[k])); err != nil {
			fail(err)
		}
	}
	bad := false
	fmt.Println("| model | params | batch 1: max diff / max ref | batch 4 |")
	fmt.Println("| --- | ---: | ---: | ---: |")
	for _, m := range man.Models {
		im, err := onnx.Load(filepath.Join(dir, m.File), nil)
		if err != nil {
			fmt.Printf("| %s | %d | import failed: %v | |\n", m.Name, m.Params, err)
			bad = true
			continue
		}
		row := fmt.Sprintf("| %s | %.1fM |", m.Name, float64(m.Params)/1e6)
		for _, k := range batches {
			ref, err := npy.ReadFile(filepath.Join(dir, fmt.Sprintf("ort_%s_b%s.npy", m.Name, k)))
			if err != nil {
				fail(err)
			}
			out, err := im.RunNCHW(inputs[k])
			if err != nil {
				row += fmt.Sprintf(" run failed: %v |", err)
				bad = true
				continue
			}
			r := rel(out[0], ref)
			mark := ""
			if !(r <= 1e-4) {
				mark, bad = " **over 1e-4**", true
			}
			row += fmt.Sprintf(" %.1e%s |", r, mark)
		}
		fmt.Println(row)
	}
	if bad {
		os.Exit(1)
	}
}

// rel is max |got - want| / max |want|.
func rel(got, want *tensor.Tensor) float64 {
	if !tensor.EqualShape(got.Shape, want.Shape) {
		return math.Inf(1)
	}
	var d, m float64
	for i, w := range want.Data {
		d = math.Max(d, math.Abs(float64(got.Data[i]-w)))
		m = math.Max(m, math.Abs(float64(w)))
	}
	return d / m
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "agree:", err)
	os.Exit(1)
}
