//go:build amd64 && !purego

#include "textflag.h"

// Registers: Y0-Y8 the nine weights, AX BX DX / R9 R10 R11 / R12 R13 R14
// the sources of the kernel's three rows, DI dst, SI the byte offset of
// the current block, R8 the end of the 16-wide blocks, CX n in bytes,
// R15 the mask of taps to add.

// DENSE16 leaves dst[i:i+16] (i = SI bytes) in Y9 and Y10: each kernel
// row in its own pair of accumulators (Y9/Y10, Y11/Y12, Y13/Y14), so no
// chain is longer than three multiply-adds.
#define DENSE16 \
	VMULPS (AX)(SI*1), Y0, Y9 \
	VMULPS 32(AX)(SI*1), Y0, Y10 \
	VMULPS (R9)(SI*1), Y3, Y11 \
	VMULPS 32(R9)(SI*1), Y3, Y12 \
	VMULPS (R12)(SI*1), Y6, Y13 \
	VMULPS 32(R12)(SI*1), Y6, Y14 \
	VFMADD231PS (BX)(SI*1), Y1, Y9 \
	VFMADD231PS 32(BX)(SI*1), Y1, Y10 \
	VFMADD231PS (R10)(SI*1), Y4, Y11 \
	VFMADD231PS 32(R10)(SI*1), Y4, Y12 \
	VFMADD231PS (R13)(SI*1), Y7, Y13 \
	VFMADD231PS 32(R13)(SI*1), Y7, Y14 \
	VFMADD231PS (DX)(SI*1), Y2, Y9 \
	VFMADD231PS 32(DX)(SI*1), Y2, Y10 \
	VFMADD231PS (R11)(SI*1), Y5, Y11 \
	VFMADD231PS 32(R11)(SI*1), Y5, Y12 \
	VFMADD231PS (R14)(SI*1), Y8, Y13 \
	VFMADD231PS 32(R14)(SI*1), Y8, Y14

// TAP16 adds tap BIT (source P, weight W) to accumulators A and B when
// its bit of R15 is set. The branches go the same way all along a row,
// so they cost no mispredictions.
#define TAP16(BIT, P, W, A, B, SKIP) \
	BTL $BIT, R15 \
	JCC SKIP \
	VFMADD231PS (P)(SI*1), W, A \
	VFMADD231PS 32(P)(SI*1), W, B \
SKIP:

#define TAP8(BIT, P, W, A, SKIP) \
	BTL $BIT, R15 \
	JCC SKIP \
	VFMADD231PS (P)(SI*1), W, A \
SKIP:

// SUM16 adds the row accumulators into Y9 and Y10 and stores them.
#define SUM16 \
	VADDPS Y11, Y9, Y9 \
	VADDPS Y12, Y10, Y10 \
	VADDPS Y13, Y9, Y9 \
	VADDPS Y14, Y10, Y10 \
	VMOVUPS Y9, (DI)(SI*1) \
	VMOVUPS Y10, 32(DI)(SI*1)

// func filterRow3x3AVX2(dst *float32, srcs *[9]*float32, w *[9]float32, n int, mask uint)
//
// dst[i] = (w0*s0[i] + w1*s1[i] + w2*s2[i]) + (w3*s3[i] + ...) + (w6*s6[i]
// + ...) for i < n, n % 8 == 0 and n > 0, over the taps whose bit is set
// in mask (all nine: one multiply per row, then multiply-adds; fewer:
// every term a multiply-add onto zero, which rounds the same).
TEXT ·filterRow3x3AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ srcs+8(FP), SI
	MOVQ w+16(FP), R8
	MOVQ n+24(FP), CX
	MOVQ mask+32(FP), R15
	VBROADCASTSS 0(R8), Y0
	VBROADCASTSS 4(R8), Y1
	VBROADCASTSS 8(R8), Y2
	VBROADCASTSS 12(R8), Y3
	VBROADCASTSS 16(R8), Y4
	VBROADCASTSS 20(R8), Y5
	VBROADCASTSS 24(R8), Y6
	VBROADCASTSS 28(R8), Y7
	VBROADCASTSS 32(R8), Y8
	MOVQ 0(SI), AX
	MOVQ 8(SI), BX
	MOVQ 16(SI), DX
	MOVQ 24(SI), R9
	MOVQ 32(SI), R10
	MOVQ 40(SI), R11
	MOVQ 48(SI), R12
	MOVQ 56(SI), R13
	MOVQ 64(SI), R14
	SHLQ $2, CX  // n in bytes
	XORQ SI, SI
	MOVQ CX, R8
	ANDQ $-64, R8
	CMPQ R15, $0x1ff
	JNE sparse16

dense16:
	CMPQ SI, R8
	JGE dense8
	DENSE16
	SUM16
	ADDQ $64, SI
	JMP dense16

dense8:
	CMPQ SI, CX
	JGE done
	VMULPS (AX)(SI*1), Y0, Y9
	VMULPS (R9)(SI*1), Y3, Y11
	VMULPS (R12)(SI*1), Y6, Y13
	VFMADD231PS (BX)(SI*1), Y1, Y9
	VFMADD231PS (R10)(SI*1), Y4, Y11
	VFMADD231PS (R13)(SI*1), Y7, Y13
	VFMADD231PS (DX)(SI*1), Y2, Y9
	VFMADD231PS (R11)(SI*1), Y5, Y11
	VFMADD231PS (R14)(SI*1), Y8, Y13
	JMP store8

sparse16:
	CMPQ SI, R8
	JGE sparse8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	TAP16(0, AX, Y0, Y9, Y10, s16t0)
	TAP16(1, BX, Y1, Y9, Y10, s16t1)
	TAP16(2, DX, Y2, Y9, Y10, s16t2)
	TAP16(3, R9, Y3, Y11, Y12, s16t3)
	TAP16(4, R10, Y4, Y11, Y12, s16t4)
	TAP16(5, R11, Y5, Y11, Y12, s16t5)
	TAP16(6, R12, Y6, Y13, Y14, s16t6)
	TAP16(7, R13, Y7, Y13, Y14, s16t7)
	TAP16(8, R14, Y8, Y13, Y14, s16t8)
	SUM16
	ADDQ $64, SI
	JMP sparse16

sparse8:
	CMPQ SI, CX
	JGE done
	VXORPS Y9, Y9, Y9
	VXORPS Y11, Y11, Y11
	VXORPS Y13, Y13, Y13
	TAP8(0, AX, Y0, Y9, s8t0)
	TAP8(1, BX, Y1, Y9, s8t1)
	TAP8(2, DX, Y2, Y9, s8t2)
	TAP8(3, R9, Y3, Y11, s8t3)
	TAP8(4, R10, Y4, Y11, s8t4)
	TAP8(5, R11, Y5, Y11, s8t5)
	TAP8(6, R12, Y6, Y13, s8t6)
	TAP8(7, R13, Y7, Y13, s8t7)
	TAP8(8, R14, Y8, Y13, s8t8)

store8:
	VADDPS Y11, Y9, Y9
	VADDPS Y13, Y9, Y9
	VMOVUPS Y9, (DI)(SI*1)

done:
	VZEROUPPER
	RET
