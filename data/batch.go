package data

import (
	"fmt"
	"iter"
	"math/rand/v2"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// Batch is one mini-batch. Its tensors and slices belong to the Batcher
// and are overwritten after the next iteration step: copy what you keep.
type Batch struct {
	X       *tensor.Tensor // (B,H,W,C)
	Y       []int          // B labels
	OneHot  *tensor.Tensor // (B, classes): 1 at the label, else 0
	Indices []int          // dataset index of each sample
}

// BatchOptions configure a Batcher.
type BatchOptions struct {
	// Shuffle draws a new sample order every epoch from Seed.
	Shuffle bool
	Seed    uint64
	// Augment, when set, transforms every sample (seeded by Seed too).
	Augment *Augment
}

// Batcher yields a dataset's samples in mini-batches, epoch after epoch.
// While the caller works on one batch, a goroutine fills the next, so
// training never waits for batch assembly; the two batch buffers are
// allocated once, so iterating allocates nothing per batch.
type Batcher struct {
	d     *Dataset
	size  int
	opts  BatchOptions
	rng   *rand.Rand
	order []int
	bufs  [2]*Batch
	per   int
	// For 8-bit images: each channel's byte -> float32 table, and one
	// sample converted (augmentation reads it).
	lut     [][256]float32
	scratch []float32
}

// NewBatcher prepares batches of batchSize samples of d; the last batch of
// an epoch holds the remainder (smaller) when batchSize does not divide
// d.Len().
func NewBatcher(d *Dataset, batchSize int, opts BatchOptions) (*Batcher, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if batchSize <= 0 {
		return nil, fmt.Errorf("data: batch size %d must be positive", batchSize)
	}
	if d.Len() == 0 {
		return nil, fmt.Errorf("data: cannot batch an empty dataset")
	}
	if opts.Augment != nil {
		if err := opts.Augment.Validate(); err != nil {
			return nil, err
		}
	}
	b := &Batcher{d: d, size: min(batchSize, d.Len()), opts: opts, rng: nn.NewRNG(opts.Seed), per: d.SampleLen()}
	b.order = make([]int, d.Len())
	for i := range b.order {
		b.order[i] = i
	}
	if d.U8 != nil {
		b.lut = d.U8.lut()
		if opts.Augment != nil {
			b.scratch = make([]float32, b.per)
		}
	}
	shape := append([]int{b.size}, d.SampleShape()...)
	for i := range b.bufs {
		b.bufs[i] = &Batch{X: tensor.New(shape...), Y: make([]int, b.size), OneHot: tensor.New(b.size, len(d.Classes)), Indices: make([]int, b.size)}
	}
	return b, nil
}

// Len is the number of batches per epoch.
func (b *Batcher) Len() int { return (b.d.Len() + b.size - 1) / b.size }

// BatchSize is the size of full batches.
func (b *Batcher) BatchSize() int { return b.size }

// Epoch returns the next epoch's batches; the order (and augmentation) is
// drawn when iteration starts. Breaking out of the loop stops the
// prefetching goroutine before Epoch's iterator returns.
//
//	for batch := range batcher.Epoch() {
//		loss := model.Step(batch.X, batch.OneHot)
//	}
func (b *Batcher) Epoch() iter.Seq[*Batch] {
	return func(yield func(*Batch) bool) {
		if b.opts.Shuffle {
			b.rng.Shuffle(len(b.order), func(i, j int) { b.order[i], b.order[j] = b.order[j], b.order[i] })
		}
		free := make(chan *Batch, 2)
		ready := make(chan *Batch, 1)
		stop := make(chan struct{})
		done := make(chan struct{})
		free <- b.bufs[0]
		free <- b.bufs[1]
		go func() {
			defer close(done)
			defer close(ready)
			for start := 0; start < len(b.order); start += b.size {
				var buf *Batch
				select {
				case buf = <-free:
				case <-stop:
					return
				}
				b.fill(buf, b.order[start:min(start+b.size, len(b.order))])
				select {
				case ready <- buf:
				case <-stop:
					return
				}
			}
		}()
		defer func() {
			close(stop)
			<-done
		}()
		for buf := range ready {
			if !yield(buf) {
				return
			}
			free <- buf
		}
	}
}

// fill copies (and augments) the samples idx into buf, resizing its views
// for a short final batch without allocating. 8-bit images are converted
// to float32 here (then augmented from the converted sample), so a batch
// holds the same values as from a float32 copy of the dataset.
func (b *Batcher) fill(buf *Batch, idx []int) {
	n, per, k := len(idx), b.per, len(b.d.Classes)
	buf.X.Shape[0] = n
	buf.X.Data = buf.X.Data[:cap(buf.X.Data)][:n*per]
	buf.OneHot.Shape[0] = n
	buf.OneHot.Data = buf.OneHot.Data[:cap(buf.OneHot.Data)][:n*k]
	buf.Y = buf.Y[:n]
	buf.Indices = buf.Indices[:n]
	clear(buf.OneHot.Data)
	s := b.d.Shape()
	for j, i := range idx {
		dst := buf.X.Data[j*per : (j+1)*per]
		var src []float32
		if u := b.d.U8; u != nil {
			pix := u.Pix[i*per : (i+1)*per]
			if b.opts.Augment == nil {
				convert(dst, pix, b.lut)
			} else {
				convert(b.scratch, pix, b.lut)
				src = b.scratch
			}
		} else {
			src = b.d.X.Data[i*per : (i+1)*per]
			if b.opts.Augment == nil {
				copy(dst, src)
			}
		}
		if b.opts.Augment != nil {
			b.opts.Augment.Apply(dst, src, s[1], s[2], s[3], b.rng)
		}
		y := b.d.Y[i]
		buf.Y[j], buf.Indices[j] = y, i
		buf.OneHot.Data[j*k+y] = 1
	}
}
