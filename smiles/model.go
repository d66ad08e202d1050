package smiles

import (
	_ "embed"
	"fmt"

	"github.com/dlcv-go/dlcv/classifier"
	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/safetensors"
)

// modelFile is the shipped smile classifier, written by
// 'dlcv smiles train' (the command and its report are in docs/smiles.md).
//
//go:embed model/smiles.safetensors
var modelFile []byte

// DefaultModel decodes the shipped smile classifier. Each call returns a
// fresh copy.
func DefaultModel() (*classifier.Model, error) {
	f, err := safetensors.Decode(modelFile)
	if err != nil {
		return nil, fmt.Errorf("smiles: shipped model: %w", err)
	}
	net, err := nn.ModelFromFile(f)
	if err != nil {
		return nil, fmt.Errorf("smiles: shipped model: %w", err)
	}
	m, err := classifier.FromMeta(net, f.Metadata)
	if err != nil {
		return nil, fmt.Errorf("smiles: shipped model: %w", err)
	}
	return m, nil
}

// LoadModel reads a smile classifier from a model file, or returns the
// shipped one when path is "".
func LoadModel(path string) (*classifier.Model, error) {
	if path == "" {
		return DefaultModel()
	}
	return classifier.Load(path)
}
