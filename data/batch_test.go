package data

import (
	"slices"
	"testing"
)

func TestBatcherEpochs(t *testing.T) {
	d := synthetic([]int{5, 3, 2}, 2, 2, 1) // 10 samples, value = index
	b, err := NewBatcher(d, 4, BatchOptions{Shuffle: true, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 3 {
		t.Errorf("%d batches, want 3", b.Len())
	}
	var orders [][]int
	for range 3 {
		var order, sizes []int
		for batch := range b.Epoch() {
			n := batch.X.Shape[0]
			sizes = append(sizes, n)
			if len(batch.X.Data) != n*4 || batch.OneHot.Shape[0] != n || len(batch.Y) != n {
				t.Fatalf("inconsistent batch: %v %v %d", batch.X.Shape, batch.OneHot.Shape, len(batch.Y))
			}
			for j := range n {
				id := int(batch.X.Data[j*4+3])
				if id != batch.Indices[j] || batch.Y[j] != d.Y[id] {
					t.Fatalf("sample %d: index %d label %d", id, batch.Indices[j], batch.Y[j])
				}
				for k := range 3 {
					want := float32(0)
					if k == batch.Y[j] {
						want = 1
					}
					if batch.OneHot.Data[j*3+k] != want {
						t.Fatalf("one-hot row %v for label %d", batch.OneHot.Data[j*3:j*3+3], batch.Y[j])
					}
				}
				order = append(order, id)
			}
		}
		if !slices.Equal(sizes, []int{4, 4, 2}) {
			t.Errorf("batch sizes %v", sizes)
		}
		sorted := slices.Sorted(slices.Values(order))
		if !slices.Equal(sorted, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
			t.Errorf("epoch order %v is not a permutation", order)
		}
		orders = append(orders, order)
	}
	if slices.Equal(orders[0], orders[1]) && slices.Equal(orders[1], orders[2]) {
		t.Error("order does not change between epochs")
	}
	// Same seed, same sequence of epochs.
	b2, _ := NewBatcher(d, 4, BatchOptions{Shuffle: true, Seed: 9})
	var first []int
	for batch := range b2.Epoch() {
		first = append(first, batch.Indices...)
	}
	if !slices.Equal(first, orders[0]) {
		t.Errorf("seeded order %v, then %v", orders[0], first)
	}
}

func TestBatcherNoShuffleAndBreak(t *testing.T) {
	d := synthetic([]int{3, 3}, 1, 1, 1)
	b, _ := NewBatcher(d, 2, BatchOptions{})
	var got []int
	for batch := range b.Epoch() {
		got = append(got, batch.Indices...)
		break // stops the prefetching goroutine
	}
	for batch := range b.Epoch() {
		got = append(got, batch.Indices...)
	}
	if !slices.Equal(got, []int{0, 1, 0, 1, 2, 3, 4, 5}) {
		t.Errorf("order %v", got)
	}
	if _, err := NewBatcher(d, 0, BatchOptions{}); err == nil {
		t.Error("batch size 0 accepted")
	}
}

func TestBatcherAllocations(t *testing.T) {
	d := synthetic([]int{300, 300}, 4, 4, 2)
	b, _ := NewBatcher(d, 3, BatchOptions{Shuffle: true, Augment: &Augment{FlipHorizontal: true, Rotation: 10}})
	// 200 batches per epoch; the per-epoch setup (channels, goroutine)
	// allocates a fixed small number, never per batch.
	allocs := testing.AllocsPerRun(3, func() {
		for range b.Epoch() {
		}
	})
	if allocs > 20 {
		t.Errorf("%v allocations per epoch of %d batches", allocs, b.Len())
	}
	u8, _ := bytesDataset(600, 4, 4, 2, nil)
	for _, aug := range []*Augment{nil, {Rotation: 10}} {
		b, _ = NewBatcher(u8, 3, BatchOptions{Shuffle: true, Augment: aug})
		if allocs := testing.AllocsPerRun(3, func() {
			for range b.Epoch() {
			}
		}); allocs > 20 {
			t.Errorf("8-bit images, augment %v: %v allocations per epoch of %d batches", aug != nil, allocs, b.Len())
		}
	}
}

func TestBatcherAugmentDeterministic(t *testing.T) {
	d := synthetic([]int{4, 4}, 5, 5, 1)
	for i := range d.X.Data {
		d.X.Data[i] = float32(i % 7)
	}
	run := func() []float32 {
		b, _ := NewBatcher(d, 3, BatchOptions{Shuffle: true, Seed: 5, Augment: &Augment{WidthShift: 0.3, Rotation: 20}})
		var out []float32
		for range 2 {
			for batch := range b.Epoch() {
				out = append(out, batch.X.Data...)
			}
		}
		return out
	}
	if !slices.Equal(run(), run()) {
		t.Error("augmented batches differ for the same seed")
	}
}

func BenchmarkBatcherEpoch(b *testing.B) {
	d := synthetic([]int{5000, 5000}, 28, 28, 1)
	bt, _ := NewBatcher(d, 64, BatchOptions{Shuffle: true})
	b.SetBytes(int64(len(d.X.Data) * 4))
	for b.Loop() {
		for range bt.Epoch() {
		}
	}
}
