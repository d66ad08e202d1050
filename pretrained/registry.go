package pretrained

import (
	"fmt"
	"sort"
	"strings"
)

// File is one downloadable file.
type File struct {
	Name   string // file name in the cache (and at the source URL)
	URL    string // public source; empty for a file from Model.Archive
	SHA256 string // hex digest of the exact bytes in the cache
	Size   int64  // bytes, for progress display
	// From is the archive member the file is extracted from when the
	// model comes in an Archive.
	From *Member
}

// Model is a registered pretrained model: a classifier, or (Kind
// KindAnnotate) a model of one of the annotate features.
type Model struct {
	Name        string // registry name, e.g. "mobilenet-v2"
	Description string
	// Kind is "" for an ImageNet classifier, KindAnnotate for a model
	// package annotate runs (detectors, the safe-search classifier).
	Kind string
	// File is the file to load (a .tflite, a TF.js model.json); Extra
	// are the files it needs beside it (a TF.js model's weight shards).
	File  File
	Extra []File
	// Archive, when set, is the tarball all of File, Extra and Labels are
	// extracted from (each names its member in From).
	Archive   *Archive
	Labels    File   // label file, one class a line (zero: none)
	License   string // SPDX identifier
	InputSize int    // square input side in pixels
	Input     string // input format, for documentation
	// Features is the node of its pooled features, where a backbone for
	// transfer learning is cut (dlcv train --backbone NAME).
	Features string
}

const coralBase = "https://raw.githubusercontent.com/google-coral/test_data/master/"

// ImageNetLabels is the 1001-class label file (line 0 = background) of the
// Coral ImageNet models.
var ImageNetLabels = File{
	Name:   "imagenet_labels.txt",
	URL:    coralBase + "imagenet_labels.txt",
	SHA256: "b8aaeb5630c62626a7d124a05c0e14230a7ffdd2136a31d0190a4fb71c1d82f1",
	Size:   21686,
}

// Models lists the registered models.
var Models = []Model{
	{
		Name:        "mobilenet-v2",
		Description: "MobileNet v2 1.0, ImageNet, uint8 quantized",
		File: File{Name: "mobilenet_v2_1.0_224_quant.tflite", URL: coralBase + "mobilenet_v2_1.0_224_quant.tflite",
			SHA256: "7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776", Size: 3610798},
		Labels: ImageNetLabels, License: "Apache-2.0", InputSize: 224,
		Input: "224x224 RGB uint8 (real = (pixel-128)/128)", Features: "MobilenetV2/Logits/AvgPool",
	},
	{
		Name:        "mobilenet-v1-0.25",
		Description: "MobileNet v1 0.25, ImageNet, uint8 quantized (small and fast)",
		File: File{Name: "mobilenet_v1_0.25_128_quant.tflite", URL: coralBase + "mobilenet_v1_0.25_128_quant.tflite",
			SHA256: "cb273c23ee76374b05b9583177e28aa19744858a7679c56a250e83d0333da785", Size: 525598},
		Labels: ImageNetLabels, License: "Apache-2.0", InputSize: 128,
		Input: "128x128 RGB uint8 (real = (pixel-128)/128)", Features: "MobilenetV1/Logits/AvgPool_1a/AvgPool",
	},
	{
		Name:        "mobilenet-v2-int8",
		Description: "TF2 MobileNet v2 1.0, ImageNet, int8 per-channel post-training quantization",
		File: File{Name: "tf2_mobilenet_v2_1.0_224_ptq.tflite", URL: coralBase + "tf2_mobilenet_v2_1.0_224_ptq.tflite",
			SHA256: "5d3137241276e79c86d14a74fe43581398ae0e815191d3dba45495b810840e8c", Size: 4070174},
		Labels: ImageNetLabels, License: "Apache-2.0", InputSize: 224,
		Input: "224x224 RGB uint8 (real = (pixel-127)/127.5)", Features: "MobileNetV2/top/GlobalPool/Mean",
	},
}

// KindAnnotate marks the models of the annotate features.
const KindAnnotate = "annotate"

// Files are the files of m: File, Labels (when it has one) and Extra.
func (m *Model) Files() []File {
	fs := []File{m.File}
	if m.Labels.Name != "" {
		fs = append(fs, m.Labels)
	}
	return append(fs, m.Extra...)
}

// Lookup finds a registered model by name.
func Lookup(name string) (*Model, error) {
	for i := range Models {
		if Models[i].Name == name {
			return &Models[i], nil
		}
	}
	return nil, fmt.Errorf("pretrained: unknown model %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Names returns the registered model names, sorted.
func Names() []string {
	var n []string
	for _, m := range Models {
		n = append(n, m.Name)
	}
	sort.Strings(n)
	return n
}
