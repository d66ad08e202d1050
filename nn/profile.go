package nn

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// Profile accumulates the time a Session spends in each node, forward and
// backward, as ONNX Runtime's profiler does: where the time goes in a
// model. Turn it on with Session.SetProfile; it costs two clock reads per
// node.
type Profile struct {
	Runs  int // Runs of the session while profiling
	nodes map[any]*NodeTime
	order []*NodeTime
}

// NodeTime is one node's accumulated time.
type NodeTime struct {
	Name, Kind        string
	Forward, Backward time.Duration
	Calls             int // forward calls
}

// SetProfile starts recording per-node times into p (nil stops).
func (s *Session) SetProfile(p *Profile) {
	s.prof = p
}

func (p *Profile) add(n *Node, d time.Duration, backward bool) {
	p.record(n, n.Name, n.Op.Kind(), d, backward)
}

// AddForward records d spent running an operator outside a Session (the
// TFLite interpreter's, say), so that other runtimes print the same
// tables: key identifies the operator across runs (any comparable value,
// such as its index), name and kind are what the tables show. Callers
// count Runs themselves. A Profile is not safe for concurrent use.
func (p *Profile) AddForward(key any, name, kind string, d time.Duration) {
	p.record(key, name, kind, d, false)
}

func (p *Profile) record(key any, name, kind string, d time.Duration, backward bool) {
	if p.nodes == nil {
		p.nodes = map[any]*NodeTime{}
	}
	t := p.nodes[key]
	if t == nil {
		t = &NodeTime{Name: name, Kind: kind}
		p.nodes[key] = t
		p.order = append(p.order, t)
	}
	if backward {
		t.Backward += d
	} else {
		t.Forward += d
		t.Calls++
	}
}

// Nodes returns the per-node times in the order the nodes first ran.
func (p *Profile) Nodes() []NodeTime {
	out := make([]NodeTime, len(p.order))
	for i, t := range p.order {
		out[i] = *t
	}
	return out
}

// Total is the time recorded in all nodes.
func (p *Profile) Total() time.Duration {
	var d time.Duration
	for _, t := range p.order {
		d += t.Forward + t.Backward
	}
	return d
}

// KindTime is the time of all nodes of one op kind.
type KindTime struct {
	Kind              string
	Nodes             int
	Forward, Backward time.Duration
}

// Kinds sums the time per op kind, most expensive first.
func (p *Profile) Kinds() []KindTime {
	idx := map[string]int{}
	var ks []KindTime
	for _, t := range p.order {
		i, ok := idx[t.Kind]
		if !ok {
			i = len(ks)
			idx[t.Kind] = i
			ks = append(ks, KindTime{Kind: t.Kind})
		}
		ks[i].Nodes++
		ks[i].Forward += t.Forward
		ks[i].Backward += t.Backward
	}
	slices.SortStableFunc(ks, func(a, b KindTime) int {
		return cmpInt(int(b.Forward+b.Backward), int(a.Forward+a.Backward))
	})
	return ks
}

// Write prints the time per op kind (with its share of the total) and,
// when nodes > 0, the nodes that took longest, per run.
func (p *Profile) Write(w io.Writer, nodes int) error {
	runs := max(p.Runs, 1)
	total := p.Total()
	per := func(d time.Duration) string {
		return fmt.Sprintf("%.3f", float64(d)/float64(runs)/1e6)
	}
	share := func(d time.Duration) string {
		if total == 0 {
			return "0.0%"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(d)/float64(total))
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "op kind\tnodes\tforward ms\tbackward ms\tshare\t\n")
	for _, k := range p.Kinds() {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t\n", k.Kind, k.Nodes, per(k.Forward), per(k.Backward), share(k.Forward+k.Backward))
	}
	fmt.Fprintf(tw, "total\t%d\t\t\t%s ms\t\n", len(p.order), per(total))
	if nodes > 0 {
		ts := p.Nodes()
		slices.SortStableFunc(ts, func(a, b NodeTime) int {
			return cmpInt(int(b.Forward+b.Backward), int(a.Forward+a.Backward))
		})
		fmt.Fprintf(tw, "\t\t\t\t\t\nnode\tkind\tforward ms\tbackward ms\tshare\t\n")
		for _, t := range ts[:min(nodes, len(ts))] {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", t.Name, t.Kind, per(t.Forward), per(t.Backward), share(t.Forward+t.Backward))
		}
	}
	return tw.Flush()
}
