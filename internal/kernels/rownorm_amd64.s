//go:build !purego

#include "textflag.h"

// Layer-normalisation kernels (AVX2) for rows of d values, d a positive
// multiple of 8. One 8-lane accumulator per sum and the lanes added
// pairwise, as the Go loops of rownorm.go do, with the same operations in
// the same order: the results are the same bits. Go assembly operand order
// is reversed from Intel's.

// HSUM(y, x, t) sets the low float of x (the low half of y) to
// ((y0+y4) + (y2+y6)) + ((y1+y5) + (y3+y7)); clobbers t.
#define HSUM(y, x, t) \
	VEXTRACTF128 $1, y, t \
	VADDPS       t, x, x \
	VMOVHLPS     x, x, t \
	VADDPS       t, x, x \
	VMOVSHDUP    x, t \
	VADDSS       t, x, x

// func layerNormRowsAVX2(y, x, gamma, beta, mean, inv *float32, rows, d int, eps float32)
TEXT ·layerNormRowsAVX2(SB), NOSPLIT, $0-68
	MOVQ     y+0(FP), DI
	MOVQ     x+8(FP), SI
	MOVQ     gamma+16(FP), R8
	MOVQ     beta+24(FP), R9
	MOVQ     mean+32(FP), R11
	MOVQ     inv+40(FP), R12
	MOVQ     rows+48(FP), BX
	MOVQ     d+56(FP), R10
	VMOVSS   eps+64(FP), X13
	VCVTSI2SSQ R10, X14, X14
	SHLQ     $2, R10
	MOVL     $0x3f800000, AX
	MOVQ     AX, X12

lnrow:
	VXORPS Y0, Y0, Y0
	XORQ   DX, DX

lnsum:
	VADDPS (SI)(DX*1), Y0, Y0
	ADDQ   $32, DX
	CMPQ   DX, R10
	JLT    lnsum
	HSUM(Y0, X0, X1)
	VDIVSS       X14, X0, X0
	VMOVSS       X0, (R11)
	VBROADCASTSS X0, Y2
	VXORPS       Y0, Y0, Y0
	XORQ         DX, DX

lnvar:
	VMOVUPS (SI)(DX*1), Y1
	VSUBPS  Y2, Y1, Y1
	VMULPS  Y1, Y1, Y1
	VADDPS  Y1, Y0, Y0
	ADDQ    $32, DX
	CMPQ    DX, R10
	JLT     lnvar
	HSUM(Y0, X0, X1)
	VDIVSS       X14, X0, X0
	VADDSS       X13, X0, X0
	VSQRTSS      X0, X0, X0
	VDIVSS       X0, X12, X1
	VMOVSS       X1, (R12)
	VBROADCASTSS X1, Y3
	XORQ         DX, DX

lnout:
	VMOVUPS (SI)(DX*1), Y1
	VSUBPS  Y2, Y1, Y1
	VMULPS  Y3, Y1, Y1
	VMULPS  (R8)(DX*1), Y1, Y1
	VADDPS  (R9)(DX*1), Y1, Y1
	VMOVUPS Y1, (DI)(DX*1)
	ADDQ    $32, DX
	CMPQ    DX, R10
	JLT     lnout
	ADDQ    R10, SI
	ADDQ    R10, DI
	ADDQ    $4, R11
	ADDQ    $4, R12
	DECQ    BX
	JNZ     lnrow
	VZEROUPPER
	RET

// func layerNormRowsGradAVX2(dx, dy, x, gamma, mean, inv *float32, rows, d int)
TEXT ·layerNormRowsGradAVX2(SB), NOSPLIT, $0-64
	MOVQ      dx+0(FP), DI
	MOVQ      dy+8(FP), R13
	MOVQ      x+16(FP), SI
	MOVQ      gamma+24(FP), R8
	MOVQ      mean+32(FP), R11
	MOVQ      inv+40(FP), R12
	MOVQ      rows+48(FP), BX
	MOVQ      d+56(FP), R10
	VCVTSI2SSQ R10, X14, X14
	SHLQ      $2, R10

lgrow:
	VBROADCASTSS (R11), Y2
	VBROADCASTSS (R12), Y3
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	XORQ         DX, DX

lgsum:
	VMOVUPS (R13)(DX*1), Y4
	VMULPS  (R8)(DX*1), Y4, Y4
	VADDPS  Y4, Y0, Y0
	VMOVUPS (SI)(DX*1), Y5
	VSUBPS  Y2, Y5, Y5
	VMULPS  Y3, Y5, Y5
	VMULPS  Y5, Y4, Y5
	VADDPS  Y5, Y1, Y1
	ADDQ    $32, DX
	CMPQ    DX, R10
	JLT     lgsum
	HSUM(Y0, X0, X4)
	HSUM(Y1, X1, X4)
	VDIVSS       X14, X0, X0
	VDIVSS       X14, X1, X1
	VBROADCASTSS X0, Y6
	VBROADCASTSS X1, Y7
	XORQ         DX, DX

lgout:
	VMOVUPS (SI)(DX*1), Y5
	VSUBPS  Y2, Y5, Y5
	VMULPS  Y3, Y5, Y5
	VMULPS  Y7, Y5, Y5
	VMOVUPS (R13)(DX*1), Y4
	VMULPS  (R8)(DX*1), Y4, Y4
	VSUBPS  Y6, Y4, Y4
	VSUBPS  Y5, Y4, Y4
	VMULPS  Y3, Y4, Y4
	VMOVUPS Y4, (DI)(DX*1)
	ADDQ    $32, DX
	CMPQ    DX, R10
	JLT     lgout
	ADDQ    R10, SI
	ADDQ    R10, DI
	ADDQ    R10, R13
	ADDQ    $4, R11
	ADDQ    $4, R12
	DECQ    BX
	JNZ     lgrow
	VZEROUPPER
	RET

// PGROW8(off, g0, g1, b0, b1) adds one row's 8 columns at byte offset off
// of AX (x) and DX (dy) into g (sums of dy*xhat) and b (sums of dy), with
// the row's mean in Y14 and inv in Y15; clobbers Y10-Y12.
#define PGROW8(off, g0, g1, b0, b1) \
	VMOVUPS      off(AX), Y10 \
	VSUBPS       Y14, Y10, Y10 \
	VMULPS       Y15, Y10, Y10 \
	VMOVUPS      off(DX), Y11 \
	VMULPS       Y10, Y11, Y10 \
	VCVTPS2PD    X10, Y12 \
	VADDPD       Y12, g0, g0 \
	VEXTRACTF128 $1, Y10, X10 \
	VCVTPS2PD    X10, Y10 \
	VADDPD       Y10, g1, g1 \
	VCVTPS2PD    X11, Y12 \
	VADDPD       Y12, b0, b0 \
	VEXTRACTF128 $1, Y11, X11 \
	VCVTPS2PD    X11, Y11 \
	VADDPD       Y11, b1, b1

// func layerNormParamGradsAVX2(sg, sb *float64, dy, x, mean, inv *float32, rows, d, cb int)
// Columns of x and dy from the given pointers (the first column of the
// range), cb of them (a positive multiple of 8): blocks of 16, then 8.
TEXT ·layerNormParamGradsAVX2(SB), NOSPLIT, $0-72
	MOVQ sg+0(FP), DI
	MOVQ sb+8(FP), R9
	MOVQ dy+16(FP), R13
	MOVQ x+24(FP), SI
	MOVQ mean+32(FP), R11
	MOVQ inv+40(FP), R12
	MOVQ rows+48(FP), BX
	MOVQ d+56(FP), R10
	SHLQ $2, R10
	MOVQ cb+64(FP), R14

pg16:
	CMPQ   R14, $16
	JLT    pg8
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	MOVQ   SI, AX
	MOVQ   R13, DX
	XORQ   CX, CX

pg16row:
	VBROADCASTSS (R11)(CX*4), Y14
	VBROADCASTSS (R12)(CX*4), Y15
	PGROW8(0, Y0, Y1, Y2, Y3)
	PGROW8(32, Y4, Y5, Y6, Y7)
	ADDQ R10, AX
	ADDQ R10, DX
	INCQ CX
	CMPQ CX, BX
	JLT  pg16row
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y4, 64(DI)
	VMOVUPD Y5, 96(DI)
	VMOVUPD Y2, (R9)
	VMOVUPD Y3, 32(R9)
	VMOVUPD Y6, 64(R9)
	VMOVUPD Y7, 96(R9)
	ADDQ    $128, DI
	ADDQ    $128, R9
	ADDQ    $64, SI
	ADDQ    $64, R13
	SUBQ    $16, R14
	JMP     pg16

pg8:
	CMPQ   R14, $8
	JLT    pgdone
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	MOVQ   SI, AX
	MOVQ   R13, DX
	XORQ   CX, CX

pg8row:
	VBROADCASTSS (R11)(CX*4), Y14
	VBROADCASTSS (R12)(CX*4), Y15
	PGROW8(0, Y0, Y1, Y2, Y3)
	ADDQ R10, AX
	ADDQ R10, DX
	INCQ CX
	CMPQ CX, BX
	JLT  pg8row
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, (R9)
	VMOVUPD Y3, 32(R9)

pgdone:
	VZEROUPPER
	RET
