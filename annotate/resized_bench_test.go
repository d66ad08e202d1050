package annotate

import (
	"fmt"
	"testing"
)

// The preprocessing alone: the 640x480 photo to each model's input.
func BenchmarkResized640(b *testing.B) {
	img := photo640(b)
	for _, s := range []int{128, 224, 512} {
		b.Run(fmt.Sprint(s), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				resized(img, s, s)
			}
		})
	}
}
