package onnx

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The ONNX backend test suite, as Debian's libonnx-testdata installs it
// (apt-get install libonnx-testdata): every test whose ops the importer
// supports runs at the suite's tolerance (rtol 1e-3, atol 1e-7) and must
// pass, except the known limitations below. The pass counts per op and
// the unsupported ops are kept in testdata/conformance.json and in
// docs/import.md; `go test ./onnx -run TestConformance -update` rewrites
// both.

var update = flag.Bool("update", false, "rewrite testdata/conformance.json and the tables of docs/import.md")

// conformanceRoot is where libonnx-testdata installs the suite.
const conformanceRoot = "/usr/share/libonnx-testdata/data"

// conformanceSuites are the suite's folders with runnable tests ("real"
// holds only download links).
var conformanceSuites = []string{"node", "pytorch-converted", "pytorch-operator", "simple"}

// knownLimits are tests of supported ops that dlcv does not pass, and why.
var knownLimits = map[string]string{}

func limit(reason string, tests ...string) {
	for _, t := range tests {
		knownLimits[t] = reason
	}
}

func init() {
	limit("3-D convolution and pooling (rank-5 inputs)", "test_averagepool_3d_default", "test_maxpool_3d_default", "test_convtranspose_3d",
		"test_AvgPool3d", "test_AvgPool3d_stride", "test_AvgPool3d_stride1_pad0_gpu_input", "test_Conv3d", "test_Conv3d_dilated",
		"test_Conv3d_dilated_strided", "test_Conv3d_groups", "test_Conv3d_no_bias", "test_Conv3d_stride", "test_Conv3d_stride_padding",
		"test_MaxPool3d", "test_MaxPool3d_stride", "test_MaxPool3d_stride_padding")
	limit("training-mode outputs (batch statistics, dropout masks)", "test_batchnorm_epsilon_training_mode",
		"test_batchnorm_example_training_mode", "test_dropout_default_mask", "test_dropout_default_mask_ratio",
		"test_training_dropout", "test_training_dropout_default", "test_training_dropout_default_mask",
		"test_training_dropout_mask", "test_training_dropout_zero_ratio", "test_training_dropout_zero_ratio_mask")
	limit("string tensors", "test_cast_FLOAT_to_STRING", "test_cast_STRING_to_FLOAT", "test_castlike_FLOAT_to_STRING",
		"test_castlike_FLOAT_to_STRING_expanded", "test_castlike_STRING_to_FLOAT", "test_castlike_STRING_to_FLOAT_expanded")
	limit("sizes that depend on an input's value (a Range whose limit is computed from an input)",
		"test_blackmanwindow_expanded", "test_blackmanwindow_symmetric_expanded", "test_hammingwindow_expanded",
		"test_hammingwindow_symmetric_expanded", "test_hannwindow_expanded", "test_hannwindow_symmetric_expanded")
	limit("optional and sequence types", "test_identity_opt", "test_identity_sequence")
	limit("dilated max pooling", "test_maxpool_2d_dilations", "test_MaxPool1d_stride_padding_dilation", "test_MaxPool2d_stride_padding_dilation")
	limit("MaxPool's Indices output", "test_maxpool_with_argmax_2d_precomputed_pads", "test_maxpool_with_argmax_2d_precomputed_strides")
	limit("empty (zero-size) tensors in reshapes and splits", "test_reshape_allowzero_reordered", "test_split_zero_size_splits")
	limit("Resize modes cubic, tf_crop_and_resize, tf_half_pixel_for_nn and exclude_outside",
		"test_resize_downsample_scales_cubic", "test_resize_downsample_scales_cubic_A_n0p5_exclude_outside",
		"test_resize_downsample_scales_cubic_align_corners", "test_resize_downsample_sizes_cubic",
		"test_resize_downsample_sizes_nearest_tf_half_pixel_for_nn", "test_resize_tf_crop_and_resize",
		"test_resize_upsample_scales_cubic", "test_resize_upsample_scales_cubic_A_n0p5_exclude_outside",
		"test_resize_upsample_scales_cubic_align_corners", "test_resize_upsample_scales_cubic_asymmetric",
		"test_resize_upsample_sizes_cubic")
	limit("the reference (ONNX 1.12) truncates float to bfloat16; dlcv rounds to the nearest, as later ONNX versions do",
		"test_cast_FLOAT_to_BFLOAT16", "test_castlike_FLOAT_to_BFLOAT16", "test_castlike_FLOAT_to_BFLOAT16_expanded")
	limit("the reference's align_corners divides by the unrounded output size; dlcv and ONNX Runtime divide by the output size (both give 1, 4)",
		"test_resize_downsample_scales_linear_align_corners")
}

// conformance is testdata/conformance.json.
type conformance struct {
	Suite       string         `json:"suite"`
	Passed      int            `json:"passed"`
	Limited     int            `json:"limited"`
	Unsupported int            `json:"unsupported_tests"`
	PerOp       map[string]int `json:"passed_per_op"`
	// UnsupportedOps counts, per op dlcv lacks, the tests that use it.
	UnsupportedOps map[string]int    `json:"unsupported_ops"`
	Limits         map[string]string `json:"limits"`
}

func TestConformance(t *testing.T) {
	root := os.Getenv("DLCV_ONNX_TESTDATA")
	if root == "" {
		root = conformanceRoot
	}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		t.Skipf("ONNX backend test data not found at %s (apt-get install libonnx-testdata, or set DLCV_ONNX_TESTDATA)", root)
	}
	got := conformance{Suite: "libonnx-testdata (ONNX 1.12 backend tests: " + strings.Join(conformanceSuites, ", ") + ")",
		PerOp: map[string]int{}, UnsupportedOps: map[string]int{}, Limits: map[string]string{}}
	seenLimits := map[string]bool{}
	for _, suite := range conformanceSuites {
		dirs, err := os.ReadDir(filepath.Join(root, suite))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dirs {
			dir := filepath.Join(root, suite, d.Name())
			name := d.Name()
			b, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
			if err != nil {
				continue
			}
			mp, err := DecodeModel(b)
			if err != nil {
				t.Errorf("%s/%s: %v", suite, name, err)
				continue
			}
			opset, _ := opsetOf(mp)
			ops := modelOps(mp.Graph)
			var missing []string
			for _, op := range ops {
				if !Supported("", op, opset) {
					missing = append(missing, op)
				}
			}
			if len(missing) > 0 || opset < MinOpset || opset > MaxOpset {
				got.Unsupported++
				for _, op := range missing {
					got.UnsupportedOps[op]++
				}
				if len(missing) == 0 {
					got.UnsupportedOps[fmt.Sprintf("opset %d", opset)]++
				}
				continue
			}
			r, err := CheckDir(dir, CheckRtol, CheckAtol)
			if reason, ok := knownLimits[name]; ok {
				seenLimits[name] = true
				got.Limited++
				got.Limits[name] = reason
				if err == nil && r.Pass() {
					t.Errorf("%s/%s passes now: remove it from knownLimits (%s)", suite, name, reason)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s/%s: %v", suite, name, err)
				continue
			}
			if !r.Pass() {
				t.Errorf("%s/%s (ops %v):\n%s", suite, name, ops, r)
				continue
			}
			got.Passed++
			for _, op := range ops {
				got.PerOp[op]++
			}
		}
	}
	for name := range knownLimits {
		if !seenLimits[name] {
			t.Errorf("knownLimits lists %s, which the suite does not have (or uses unsupported ops)", name)
		}
	}
	t.Logf("%d tests pass, %d known limitations, %d use unsupported ops", got.Passed, got.Limited, got.Unsupported)
	js, err := json.MarshalIndent(got, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	js = append(js, '\n')
	const path = "testdata/conformance.json"
	if *update {
		if err := os.WriteFile(path, js, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := updateDocs("../docs/import.md", got); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./onnx -run TestConformance -update)", err)
	}
	if !bytes.Equal(want, js) {
		var w conformance
		json.Unmarshal(want, &w)
		t.Errorf("the results differ from %s (%d passed there, %d now); run go test ./onnx -run TestConformance -update and review the diff", path, w.Passed, got.Passed)
	}
}

// Markers around the generated parts of docs/import.md.
const (
	opsBegin  = "<!-- generated: supported ops (go test ./onnx -run TestConformance -update) -->"
	opsEnd    = "<!-- end of supported ops -->"
	confBegin = "<!-- generated: conformance (go test ./onnx -run TestConformance -update) -->"
	confEnd   = "<!-- end of conformance -->"
)

// updateDocs rewrites the generated tables of docs/import.md.
func updateDocs(path string, c conformance) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	doc := string(b)
	doc, err = replaceBetween(doc, opsBegin, opsEnd, opsTable(c))
	if err != nil {
		return err
	}
	doc, err = replaceBetween(doc, confBegin, confEnd, conformanceTable(c))
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}

func replaceBetween(doc, begin, end, body string) (string, error) {
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("docs/import.md has no %q ... %q section", begin, end)
	}
	return doc[:i+len(begin)] + "\n" + body + doc[j:], nil
}

// opsTable lists the supported ops with the first opset the importer
// implements and the conformance tests that pass using each.
func opsTable(c conformance) string {
	var b strings.Builder
	b.WriteString("| op | from opset | conformance tests passed |\n| --- | ---: | ---: |\n")
	for _, op := range SupportedOps() {
		since := max(opTable[op].since, MinOpset)
		fmt.Fprintf(&b, "| %s | %d | %d |\n", op, since, c.PerOp[op])
	}
	return b.String()
}

func conformanceTable(c conformance) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Suite: %s.\n\n", c.Suite)
	fmt.Fprintf(&b, "- **%d tests pass** (every test whose ops dlcv supports, but the known limitations below);\n", c.Passed)
	fmt.Fprintf(&b, "- %d tests of supported ops are known limitations;\n", c.Limited)
	fmt.Fprintf(&b, "- %d tests use ops dlcv does not support.\n\n", c.Unsupported)
	b.WriteString("Known limitations:\n\n| reason | tests |\n| --- | --- |\n")
	byReason := map[string][]string{}
	for t, r := range c.Limits {
		byReason[r] = append(byReason[r], t)
	}
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		ts := byReason[r]
		sort.Strings(ts)
		fmt.Fprintf(&b, "| %s | %s |\n", r, strings.Join(ts, ", "))
	}
	b.WriteString("\nUnsupported ops (tests using each):\n\n")
	ops := make([]string, 0, len(c.UnsupportedOps))
	for op := range c.UnsupportedOps {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var parts []string
	for _, op := range ops {
		parts = append(parts, fmt.Sprintf("%s (%d)", op, c.UnsupportedOps[op]))
	}
	b.WriteString(strings.Join(parts, ", ") + ".\n")
	return b.String()
}
