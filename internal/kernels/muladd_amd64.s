//go:build !purego

#include "textflag.h"

// AVX2+FMA loops for muladd.go. n is a multiple of 8; the Go side does
// the rest.

// func mulAddAVX2(acc, x, w *float32, n int)
// acc[i] += x[i]*w[i]
TEXT ·mulAddAVX2(SB), NOSPLIT, $0-32
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ   m1done

m1loop:
	VMOVUPS     (DI), Y0
	VMOVUPS     (SI), Y1
	VFMADD231PS (DX), Y1, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $32, DI
	ADDQ        $32, SI
	ADDQ        $32, DX
	DECQ        CX
	JNZ         m1loop

m1done:
	VZEROUPPER
	RET

// func mulAdd3AVX2(acc, x0, x1, x2, w0, w1, w2 *float32, n int)
// acc[i] += x0[i]*w0[i] + x1[i]*w1[i] + x2[i]*w2[i]
TEXT ·mulAdd3AVX2(SB), NOSPLIT, $0-64
	MOVQ acc+0(FP), DI
	MOVQ x0+8(FP), R8
	MOVQ x1+16(FP), R9
	MOVQ x2+24(FP), R10
	MOVQ w0+32(FP), R11
	MOVQ w1+40(FP), R12
	MOVQ w2+48(FP), R13
	MOVQ n+56(FP), CX
	SHRQ $3, CX
	JZ   m3done

m3loop:
	VMOVUPS     (DI), Y0
	VMOVUPS     (R8), Y1
	VFMADD231PS (R11), Y1, Y0
	VMOVUPS     (R9), Y2
	VFMADD231PS (R12), Y2, Y0
	VMOVUPS     (R10), Y3
	VFMADD231PS (R13), Y3, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $32, DI
	ADDQ        $32, R8
	ADDQ        $32, R9
	ADDQ        $32, R10
	ADDQ        $32, R11
	ADDQ        $32, R12
	ADDQ        $32, R13
	DECQ        CX
	JNZ         m3loop

m3done:
	VZEROUPPER
	RET
