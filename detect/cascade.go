package detect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// Cascade is a boosted Haar cascade read from an OpenCV XML file. It is
// read-only after loading and safe for concurrent use.
type Cascade struct {
	// Width and Height are the detection window the cascade was trained
	// on (24x24 for the frontal face cascades).
	Width, Height int

	stages    []stage
	trees     []tree
	features  []feature
	hasTilted bool
	stumps    bool // every tree is a single node (the common case)
}

type stage struct {
	threshold   float32 // stageThreshold minus OpenCV's epsilon
	first, size int     // trees[first : first+size]
}

// tree is one weak classifier: a small decision tree over features. A
// child index > 0 is an internal node, <= 0 names leaf -index.
type tree struct {
	nodes  []treeNode
	leaves []float32
}

type treeNode struct {
	feature     int
	threshold   float32
	left, right int
}

// feature is a Haar-like feature: a weighted sum of up to three rectangle
// sums, the rectangles upright or rotated by 45 degrees.
type feature struct {
	rects  [3]rect
	weight [3]float32
	n      int
	tilted bool
}

type rect struct{ x, y, w, h int }

// thresholdEps is subtracted from each stage threshold when OpenCV loads a
// cascade (THRESHOLD_EPS in cascadedetect.cpp); it changes borderline windows.
const thresholdEps = float32(1e-5)

// maxCascadeBytes bounds what LoadCascade reads; real cascades are < 2 MB.
const maxCascadeBytes = 64 << 20

// DebianCascadeDir is where Debian's and Ubuntu's opencv-data package
// installs the Haar cascades.
const DebianCascadeDir = "/usr/share/opencv4/haarcascades"

// DefaultCascadePath returns the frontal face cascade installed by the
// opencv-data package when it is present, else "".
func DefaultCascadePath() string {
	p := DebianCascadeDir + "/haarcascade_frontalface_default.xml"
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// ErrNoCascade is returned by LoadCascade for an empty path; its message
// says how to get a cascade file.
var ErrNoCascade = errors.New("no Haar cascade file: install one with 'apt-get install opencv-data' (it provides " +
	DebianCascadeDir + "/haarcascade_frontalface_default.xml) or download haarcascade_frontalface_default.xml " +
	"from the OpenCV repository (data/haarcascades) and pass its path (dlcv: --cascade FILE)")

// LoadCascade reads a cascade XML file written by opencv_traincascade.
func LoadCascade(path string) (*Cascade, error) {
	if path == "" {
		return nil, ErrNoCascade
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("cascade %s not found: %w", path, ErrNoCascade)
		}
		return nil, fmt.Errorf("cascade: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCascadeBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cascade %s: %w", path, err)
	}
	if len(data) > maxCascadeBytes {
		return nil, fmt.Errorf("cascade %s: larger than %d MB, not a cascade file", path, maxCascadeBytes>>20)
	}
	c, err := ParseCascade(data)
	if err != nil {
		return nil, fmt.Errorf("cascade %s: %w", path, err)
	}
	return c, nil
}

// ParseCascade parses the XML text of a cascade in the format written by
// opencv_traincascade (<cascade type_id="opencv-cascade-classifier">) with
// stage type BOOST and feature type HAAR.
func ParseCascade(data []byte) (*Cascade, error) {
	root, err := parseXMLTree(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var top *node
	for _, c := range root.children {
		top = c
	}
	if top == nil {
		return nil, errors.New("empty XML document: no <opencv_storage>")
	}
	cn := top.child("cascade")
	if cn == nil {
		for _, c := range top.children {
			if c.typeID == "opencv-haar-classifier" {
				return nil, fmt.Errorf("<%s> is in the old OpenCV 1.x Haar format (opencv-haar-classifier), which is not supported; use a cascade in the opencv_traincascade format such as haarcascade_frontalface_default.xml from OpenCV 4", c.name)
			}
		}
		return nil, fmt.Errorf("missing <cascade> in <%s>: not an OpenCV cascade file", top.name)
	}
	c := &Cascade{}
	if st := cn.child("stageType"); st != nil && st.text != "BOOST" {
		return nil, st.errorf("stage type %q is not supported (only BOOST)", st.text)
	}
	ft, err := cn.need("featureType")
	if err != nil {
		return nil, err
	}
	if ft.text != "HAAR" {
		return nil, ft.errorf("feature type %q is not supported (only HAAR)", ft.text)
	}
	// The variance window is the detection window less a 1-pixel border,
	// so a window needs at least 3 pixels a side.
	if c.Width, err = intField(cn, "width", 3, 1024); err != nil {
		return nil, err
	}
	if c.Height, err = intField(cn, "height", 3, 1024); err != nil {
		return nil, err
	}
	if err := c.parseFeatures(cn); err != nil {
		return nil, err
	}
	if err := c.parseStages(cn); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Cascade) parseStages(cn *node) error {
	sn, err := cn.need("stages")
	if err != nil {
		return err
	}
	items := sn.items()
	if len(items) == 0 {
		return sn.errorf("no stages")
	}
	if num := cn.child("stageNum"); num != nil {
		if n, err := strconv.Atoi(num.text); err != nil || n != len(items) {
			return num.errorf("stageNum %q does not match the %d stages listed", num.text, len(items))
		}
	}
	c.stumps = true
	for _, s := range items {
		thr, err := floatField(s, "stageThreshold")
		if err != nil {
			return err
		}
		wn, err := s.need("weakClassifiers")
		if err != nil {
			return err
		}
		weak := wn.items()
		if len(weak) == 0 {
			return wn.errorf("no weak classifiers")
		}
		st := stage{threshold: thr - thresholdEps, first: len(c.trees), size: len(weak)}
		for _, w := range weak {
			t, err := c.parseTree(w)
			if err != nil {
				return err
			}
			if len(t.nodes) != 1 {
				c.stumps = false
			}
			c.trees = append(c.trees, t)
		}
		c.stages = append(c.stages, st)
	}
	return nil
}

func (c *Cascade) parseTree(w *node) (tree, error) {
	in, err := w.need("internalNodes")
	if err != nil {
		return tree{}, err
	}
	ln, err := w.need("leafValues")
	if err != nil {
		return tree{}, err
	}
	f := strings.Fields(in.text)
	if len(f) == 0 || len(f)%4 != 0 {
		return tree{}, in.errorf("want groups of 4 numbers (left right featureIdx threshold), got %d numbers", len(f))
	}
	leaves, err := floats(ln)
	if err != nil {
		return tree{}, err
	}
	n := len(f) / 4
	if len(leaves) != n+1 {
		return tree{}, ln.errorf("want %d leaf values for %d nodes, got %d", n+1, n, len(leaves))
	}
	t := tree{nodes: make([]treeNode, n), leaves: leaves}
	for i := range t.nodes {
		var v [3]int
		for k := range v {
			if v[k], err = strconv.Atoi(f[4*i+k]); err != nil {
				return tree{}, in.errorf("node %d: %q is not an integer", i, f[4*i+k])
			}
		}
		thr, err := parseFloat32(f[4*i+3])
		if err != nil {
			return tree{}, in.errorf("node %d: threshold: %v", i, err)
		}
		for _, child := range v[:2] {
			// Children must point forward (so evaluation ends) or at a leaf.
			if (child > 0 && (child <= i || child >= n)) || (child <= 0 && -child >= len(leaves)) {
				return tree{}, in.errorf("node %d: child %d out of range for %d nodes and %d leaves", i, child, n, len(leaves))
			}
		}
		if v[2] < 0 || v[2] >= len(c.features) {
			return tree{}, in.errorf("node %d: feature index %d out of range (the file has %d features)", i, v[2], len(c.features))
		}
		t.nodes[i] = treeNode{left: v[0], right: v[1], feature: v[2], threshold: thr}
	}
	return t, nil
}

func (c *Cascade) parseFeatures(cn *node) error {
	fn, err := cn.need("features")
	if err != nil {
		return err
	}
	items := fn.items()
	if len(items) == 0 {
		return fn.errorf("no features")
	}
	c.features = make([]feature, len(items))
	for i, it := range items {
		ft := &c.features[i]
		if tn := it.child("tilted"); tn != nil {
			switch tn.text {
			case "0":
			case "1":
				ft.tilted = true
				c.hasTilted = true
			default:
				return tn.errorf("want 0 or 1, got %q", tn.text)
			}
		}
		rn, err := it.need("rects")
		if err != nil {
			return err
		}
		rects := rn.items()
		if len(rects) == 0 || len(rects) > 3 {
			return rn.errorf("want 1 to 3 rectangles, got %d", len(rects))
		}
		ft.n = len(rects)
		for k, r := range rects {
			f := strings.Fields(r.text)
			if len(f) != 5 {
				return r.errorf("want 5 numbers (x y width height weight), got %d", len(f))
			}
			var v [4]int
			for j := range v {
				if v[j], err = strconv.Atoi(f[j]); err != nil {
					return r.errorf("%q is not an integer", f[j])
				}
			}
			wt, err := parseFloat32(f[4])
			if err != nil {
				return r.errorf("weight: %v", err)
			}
			rc := rect{v[0], v[1], v[2], v[3]}
			if !rectInside(rc, ft.tilted, c.Width, c.Height) {
				return r.errorf("rectangle %v (tilted %v) does not fit the %dx%d window", v, ft.tilted, c.Width, c.Height)
			}
			ft.rects[k], ft.weight[k] = rc, wt
		}
	}
	return nil
}

// rectInside reports whether the rectangle's corners used by the integral
// image lie inside the window; a tilted rectangle has its corners at
// (x,y), (x-h,y+h), (x+w,y+w) and (x+w-h,y+w+h).
func rectInside(r rect, tilted bool, w, h int) bool {
	if r.x < 0 || r.y < 0 || r.w <= 0 || r.h <= 0 || r.w > w || r.h > h {
		return false
	}
	if tilted {
		return r.x-r.h >= 0 && r.x+r.w <= w && r.y+r.w+r.h <= h
	}
	return r.x+r.w <= w && r.y+r.h <= h
}

func intField(n *node, name string, lo, hi int) (int, error) {
	c, err := n.need(name)
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(c.text)
	if err != nil || v < lo || v > hi {
		return 0, c.errorf("want an integer in [%d, %d], got %q", lo, hi, c.text)
	}
	return v, nil
}

func floatField(n *node, name string) (float32, error) {
	c, err := n.need(name)
	if err != nil {
		return 0, err
	}
	v, err := parseFloat32(c.text)
	if err != nil {
		return 0, c.errorf("%v", err)
	}
	return v, nil
}

func floats(n *node) ([]float32, error) {
	f := strings.Fields(n.text)
	out := make([]float32, len(f))
	for i, s := range f {
		v, err := parseFloat32(s)
		if err != nil {
			return nil, n.errorf("value %d: %v", i, err)
		}
		out[i] = v
	}
	return out, nil
}

// parseFloat32 parses like OpenCV (a double narrowed to float) and rejects
// NaN and infinities, which would make every comparison false.
func parseFloat32(s string) (float32, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	f := float32(v)
	if math.IsNaN(v) || math.IsInf(float64(f), 0) {
		return 0, fmt.Errorf("%q is not a finite number", s)
	}
	return f, nil
}

// Stages returns the number of stages.
func (c *Cascade) Stages() int { return len(c.stages) }

// Features returns the number of Haar features and whether any is tilted.
func (c *Cascade) Features() (n int, tilted bool) { return len(c.features), c.hasTilted }
