//go:build !purego

#include "textflag.h"

// func maxIntoAVX2(dst, src *float32, n int)
// n is a multiple of 8. VMAXPS a, b returns a when a > b and b otherwise
// (also when either is NaN), so with a = src and b = dst the result keeps
// dst unless src is strictly greater: MaxIntoGo's semantics.
TEXT ·maxIntoAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

max32:
	CMPQ CX, $32
	JLT  max8
	VMOVUPS (SI), Y1
	VMOVUPS 32(SI), Y2
	VMOVUPS 64(SI), Y3
	VMOVUPS 96(SI), Y4
	VMAXPS  (DI), Y1, Y1
	VMAXPS  32(DI), Y2, Y2
	VMAXPS  64(DI), Y3, Y3
	VMAXPS  96(DI), Y4, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     max32

max8:
	CMPQ CX, $8
	JLT  maxdone
	VMOVUPS (SI), Y1
	VMAXPS  (DI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     max8

maxdone:
	VZEROUPPER
	RET

// func maxPoolPixelsAVX2(dst, src *float32, n, c, sx, kh, kw, rowx int)
// n, kh, kw >= 1; c a multiple of 8; sx and rowx in floats. Per output
// vector of 8 channels, Y0 starts at the first tap and takes each tap in
// row-major order, the first again (a no-op), with maxIntoAVX2's rule:
// VMAXPS Y0, Y1, Y0 keeps Y0 unless the tap Y1 is strictly greater.
TEXT ·maxPoolPixelsAVX2(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), DX
	MOVQ c+24(FP), R14
	SHLQ $2, R14 // channels in bytes: the tap stride along a row
	MOVQ sx+32(FP), R9
	SHLQ $2, R9
	MOVQ kh+40(FP), R11
	MOVQ kw+48(FP), R12
	MOVQ rowx+56(FP), BX
	SHLQ $2, BX
	MOVQ R12, AX
	IMULQ R14, AX
	SUBQ AX, BX // from past a window row's last tap to the next row's first

poolpix:
	MOVQ SI, R10
	MOVQ R14, CX

poolch:
	MOVQ    R10, AX
	VMOVUPS (AX), Y0
	MOVQ    R11, R13

poolky:
	MOVQ R12, R8

poolkx:
	VMOVUPS (AX), Y1
	VMAXPS  Y0, Y1, Y0
	ADDQ    R14, AX
	DECQ    R8
	JNZ     poolkx
	ADDQ    BX, AX
	DECQ    R13
	JNZ     poolky
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, R10
	SUBQ    $32, CX
	JNZ     poolch
	ADDQ    R9, SI
	DECQ    DX
	JNZ     poolpix
	VZEROUPPER
	RET

// func maxPoolGradStepAVX2(dx, grad, x, y *float32, n int)
// n is a multiple of 8. The mask compares the bits of x and y as integers.
// Where it is set, dx gets g added (elsewhere +0, which leaves dx as it
// is) and g becomes 0.
TEXT ·maxPoolGradStepAVX2(SB), NOSPLIT, $0-40
	MOVQ dx+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ x+16(FP), R8
	MOVQ y+24(FP), R9
	MOVQ n+32(FP), CX

step8:
	CMPQ     CX, $8
	JLT      stepdone
	VMOVDQU  (R8), Y0
	VPCMPEQD (R9), Y0, Y1
	VMOVUPS  (SI), Y2
	VANDPS   Y1, Y2, Y3
	VADDPS   (DI), Y3, Y3
	VMOVUPS  Y3, (DI)
	VANDNPS  Y2, Y1, Y2
	VMOVUPS  Y2, (SI)
	ADDQ     $32, DI
	ADDQ     $32, SI
	ADDQ     $32, R8
	ADDQ     $32, R9
	SUBQ     $8, CX
	JMP      step8

stepdone:
	VZEROUPPER
	RET
