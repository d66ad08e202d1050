//go:build !purego

#include "textflag.h"

// func conv1cRowAVX512(y, xp, w, bias *float32, ow, wp, kh, kw, f, masks, relu int)
//
// One output row of a stride-1 convolution of a one-channel image: for
// each output pixel ox, y[ox*f : ox*f+f] = bias + sum over taps (ky, kx)
// of xp[ky*wp + ox + kx] * w[(ky*kw+kx)*f : ...]. xp points at the first
// input value of the row's receptive field in a zero-padded image with
// rows of wp values. Pixels are done 8 at a time (16 zmm accumulators:
// filters 0-15 and 16-31 of each pixel, masked by K2 and K1), the last
// block overlapping the one before when ow is not a multiple of 8
// (ow >= 8). masks holds the low-half mask in bits 0-15 and the high-half
// mask in bits 16-31. relu != 0 applies max(., 0) before storing.
#define FMAPIX(off, lo, hi) \
	VFMADD231PS.BCST off(R13), Z0, lo; \
	VFMADD231PS.BCST off(R13), Z1, hi

#define STOREPIX(lo, hi) \
	VMOVUPS lo, K2, (R13); \
	VMOVUPS hi, K1, 64(R13); \
	ADDQ    R9, R13

#define RELUPIX(lo, hi) \
	VMAXPS lo, Z4, lo; \
	VMAXPS hi, Z4, hi

TEXT ·conv1cRowAVX512(SB), NOSPLIT, $0-88
	MOVQ y+0(FP), DI
	MOVQ xp+8(FP), SI
	MOVQ w+16(FP), DX
	MOVQ bias+24(FP), R8
	MOVQ ow+32(FP), CX
	MOVQ wp+40(FP), R14
	SHLQ $2, R14
	MOVQ f+64(FP), R9
	SHLQ $2, R9
	MOVQ masks+72(FP), AX
	KMOVW AX, K2
	SHRQ $16, AX
	KMOVW AX, K1
	VMOVUPS.Z (R8), K2, Z2
	VMOVUPS.Z 64(R8), K1, Z3
	VXORPS    Z4, Z4, Z4
	XORQ      BX, BX

block:
	MOVQ CX, AX
	SUBQ $8, AX
	CMPQ BX, AX
	JLE  start
	MOVQ AX, BX

start:
	VMOVAPS Z2, Z16
	VMOVAPS Z3, Z17
	VMOVAPS Z2, Z18
	VMOVAPS Z3, Z19
	VMOVAPS Z2, Z20
	VMOVAPS Z3, Z21
	VMOVAPS Z2, Z22
	VMOVAPS Z3, Z23
	VMOVAPS Z2, Z24
	VMOVAPS Z3, Z25
	VMOVAPS Z2, Z26
	VMOVAPS Z3, Z27
	VMOVAPS Z2, Z28
	VMOVAPS Z3, Z29
	VMOVAPS Z2, Z30
	VMOVAPS Z3, Z31
	LEAQ    (SI)(BX*4), R10
	MOVQ    DX, R12
	MOVQ    kh+48(FP), R11

kyloop:
	MOVQ R10, R13
	MOVQ kw+56(FP), AX

kxloop:
	VMOVUPS.Z (R12), K2, Z0
	VMOVUPS.Z 64(R12), K1, Z1
	FMAPIX(0, Z16, Z17)
	FMAPIX(4, Z18, Z19)
	FMAPIX(8, Z20, Z21)
	FMAPIX(12, Z22, Z23)
	FMAPIX(16, Z24, Z25)
	FMAPIX(20, Z26, Z27)
	FMAPIX(24, Z28, Z29)
	FMAPIX(28, Z30, Z31)
	ADDQ R9, R12
	ADDQ $4, R13
	DECQ AX
	JNZ  kxloop
	ADDQ R14, R10
	DECQ R11
	JNZ  kyloop

	MOVQ  relu+80(FP), AX
	TESTQ AX, AX
	JZ    store
	RELUPIX(Z16, Z17)
	RELUPIX(Z18, Z19)
	RELUPIX(Z20, Z21)
	RELUPIX(Z22, Z23)
	RELUPIX(Z24, Z25)
	RELUPIX(Z26, Z27)
	RELUPIX(Z28, Z29)
	RELUPIX(Z30, Z31)

store:
	MOVQ  BX, AX
	IMULQ R9, AX
	LEAQ  (DI)(AX*1), R13
	STOREPIX(Z16, Z17)
	STOREPIX(Z18, Z19)
	STOREPIX(Z20, Z21)
	STOREPIX(Z22, Z23)
	STOREPIX(Z24, Z25)
	STOREPIX(Z26, Z27)
	STOREPIX(Z28, Z29)
	STOREPIX(Z30, Z31)
	ADDQ  $8, BX
	CMPQ  BX, CX
	JLT   block
	VZEROUPPER
	RET

// func conv1cGradAVX512(dw, xp, dy *float32, oh, ow, wp, f, masks, kw int)
//
// Adds to the kernel rows of one kernel row ky (taps kx = 0..kw-1, kw <= 8,
// rows of f values at dw) the products of one image: dw[kx] += sum over
// output pixels (oy, ox) of xp[oy*wp + ox + kx] * dy[(oy*ow + ox)*f : ...],
// where xp points at row ky of the zero-padded image (which must have 7
// readable values past its end). Accumulators Z16-Z31 hold taps 0-7
// (low and high filter halves, masked by K2 and K1); taps past kw are
// computed and dropped.
#define GRADTAP(off, lo, hi) \
	VFMADD231PS.BCST off(SI), Z0, lo; \
	VFMADD231PS.BCST off(SI), Z1, hi

#define LOADTAP(n, lo, hi) \
	CMPQ      R11, $n; \
	JLT       loaded; \
	VMOVUPS.Z (R12), K2, lo; \
	VMOVUPS.Z 64(R12), K1, hi; \
	ADDQ      R9, R12

#define STORETAP(n, lo, hi) \
	CMPQ    R11, $n; \
	JLT     stored; \
	VMOVUPS lo, K2, (R12); \
	VMOVUPS hi, K1, 64(R12); \
	ADDQ    R9, R12

TEXT ·conv1cGradAVX512(SB), NOSPLIT, $0-72
	MOVQ dw+0(FP), DI
	MOVQ xp+8(FP), SI
	MOVQ dy+16(FP), DX
	MOVQ oh+24(FP), CX
	MOVQ ow+32(FP), R8
	MOVQ wp+40(FP), R10
	SUBQ R8, R10
	SHLQ $2, R10
	MOVQ f+48(FP), R9
	SHLQ $2, R9
	MOVQ masks+56(FP), AX
	KMOVW AX, K2
	SHRQ $16, AX
	KMOVW AX, K1
	MOVQ kw+64(FP), R11

	VXORPS Z16, Z16, Z16
	VXORPS Z17, Z17, Z17
	VXORPS Z18, Z18, Z18
	VXORPS Z19, Z19, Z19
	VXORPS Z20, Z20, Z20
	VXORPS Z21, Z21, Z21
	VXORPS Z22, Z22, Z22
	VXORPS Z23, Z23, Z23
	VXORPS Z24, Z24, Z24
	VXORPS Z25, Z25, Z25
	VXORPS Z26, Z26, Z26
	VXORPS Z27, Z27, Z27
	VXORPS Z28, Z28, Z28
	VXORPS Z29, Z29, Z29
	VXORPS Z30, Z30, Z30
	VXORPS Z31, Z31, Z31
	MOVQ   DI, R12
	LOADTAP(1, Z16, Z17)
	LOADTAP(2, Z18, Z19)
	LOADTAP(3, Z20, Z21)
	LOADTAP(4, Z22, Z23)
	LOADTAP(5, Z24, Z25)
	LOADTAP(6, Z26, Z27)
	LOADTAP(7, Z28, Z29)
	LOADTAP(8, Z30, Z31)

loaded:
grow:
	MOVQ R8, BX

gpx:
	VMOVUPS.Z (DX), K2, Z0
	VMOVUPS.Z 64(DX), K1, Z1
	GRADTAP(0, Z16, Z17)
	GRADTAP(4, Z18, Z19)
	GRADTAP(8, Z20, Z21)
	GRADTAP(12, Z22, Z23)
	GRADTAP(16, Z24, Z25)
	GRADTAP(20, Z26, Z27)
	GRADTAP(24, Z28, Z29)
	GRADTAP(28, Z30, Z31)
	ADDQ $4, SI
	ADDQ R9, DX
	DECQ BX
	JNZ  gpx
	ADDQ R10, SI
	DECQ CX
	JNZ  grow

	MOVQ DI, R12
	STORETAP(1, Z16, Z17)
	STORETAP(2, Z18, Z19)
	STORETAP(3, Z20, Z21)
	STORETAP(4, Z22, Z23)
	STORETAP(5, Z24, Z25)
	STORETAP(6, Z26, Z27)
	STORETAP(7, Z28, Z29)
	STORETAP(8, Z30, Z31)

stored:
	VZEROUPPER
	RET
