package kernels

import "fmt"

// CopyRows copies n rows of span values: row i from src[i*ss:] to
// dst[i*ds:]. Source rows may overlap (im2col's do); rows of dst may not,
// nor dst and src. It is im2col's
// inner loop, a kernel row of every patch along an output row (span = KW*C
// values, stride SW*C apart in the input, KH*KW*C apart in the patches),
// where a copy call per row cost more than the copy: the AVX2 kernel moves
// a row as 8-value vectors and a masked tail.
func CopyRows(dst []float32, ds int, src []float32, ss int, n, span int) {
	if n <= 0 || span <= 0 {
		return
	}
	if span > ds && n > 1 {
		panic(fmt.Sprintf("kernels.CopyRows: destination rows of %d values overlap at stride %d", span, ds))
	}
	_ = dst[(n-1)*ds+span-1]
	_ = src[(n-1)*ss+span-1]
	if copyRowsAsm(dst, ds, src, ss, n, span) {
		return
	}
	copyRowsGo(dst, ds, src, ss, n, span)
}

func copyRowsGo(dst []float32, ds int, src []float32, ss int, n, span int) {
	for i := range n {
		copy(dst[i*ds:i*ds+span], src[i*ss:i*ss+span])
	}
}
