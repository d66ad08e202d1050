package nn

import (
	"math"
	"math/rand/v2"
)

// Initializer fills w (a weight with the given fan-in and fan-out) from rng.
type Initializer func(w []float32, fanIn, fanOut int, rng *rand.Rand)

// GlorotUniform draws from U(-l, l), l = sqrt(6 / (fanIn + fanOut)): Keras'
// default for Dense and Conv2D kernels.
func GlorotUniform(w []float32, fanIn, fanOut int, rng *rand.Rand) {
	l := math.Sqrt(6 / float64(fanIn+fanOut))
	for i := range w {
		w[i] = float32((rng.Float64()*2 - 1) * l)
	}
}

// HeNormal draws from a normal with standard deviation sqrt(2 / fanIn),
// truncated at two standard deviations as Keras does; suited to ReLU nets.
func HeNormal(w []float32, fanIn, fanOut int, rng *rand.Rand) {
	std := math.Sqrt(2 / float64(fanIn))
	for i := range w {
		for {
			v := rng.NormFloat64()
			if v > -2 && v < 2 {
				w[i] = float32(v * std / 0.87962566103423978) // stddev of N(0,1) truncated at ±2
				break
			}
		}
	}
}

// Zeros fills w with zeros.
func Zeros(w []float32, fanIn, fanOut int, rng *rand.Rand) { clear(w) }

// NewRNG returns the generator dlcv uses everywhere for a seed, so that a
// seed means the same stream in every package.
func NewRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
