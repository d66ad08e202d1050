//go:build amd64 && !purego

#include "textflag.h"

// SUM16 leaves dst[i:i+16] (i = SI bytes) in Y9 and Y10: the kernel's
// three rows in separate accumulators, so no chain is longer than three
// multiply-adds.
#define SUM16 \
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
	VFMADD231PS 32(R14)(SI*1), Y8, Y14 \
	VADDPS Y11, Y9, Y9 \
	VADDPS Y12, Y10, Y10 \
	VADDPS Y13, Y9, Y9 \
	VADDPS Y14, Y10, Y10

// func filterRow3x3AVX2(dst *float32, srcs *[9]*float32, w *[9]float32, n int)
//
// dst[i] = (w0*s0[i] + w1*s1[i] + w2*s2[i]) + (w3*s3[i] + ...) + (w6*s6[i]
// + ...) for i < n, n % 8 == 0 and n > 0. The nine weights stay in Y0-Y8
// and the nine source pointers in general registers. (Non-temporal
// stores were tried for 8 MB outputs: no faster here.)
TEXT ·filterRow3x3AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ srcs+8(FP), SI
	MOVQ w+16(FP), R8
	MOVQ n+24(FP), CX
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
	XORQ SI, SI  // byte offset of the current block
	MOVQ CX, R8
	ANDQ $-64, R8 // end of the 16-wide blocks

loop16:
	CMPQ SI, R8
	JGE tail8
	SUM16
	VMOVUPS Y9, (DI)(SI*1)
	VMOVUPS Y10, 32(DI)(SI*1)
	ADDQ $64, SI
	JMP loop16

tail8:
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
	VADDPS Y11, Y9, Y9
	VADDPS Y13, Y9, Y9
	VMOVUPS Y9, (DI)(SI*1)
	ADDQ $32, SI
	JMP tail8

done:
	VZEROUPPER
	RET
