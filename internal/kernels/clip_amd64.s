//go:build !purego

#include "textflag.h"

// func clipAVX2(dst, src *float32, n int, lo, hi float32)
// n is a positive multiple of 8. VMAXPS x, lo, d computes max(lo, x) and
// returns x when either is NaN; VMINPS d, hi, d likewise keeps a NaN d.
TEXT ·clipAVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS lo+24(FP), Y0
	VBROADCASTSS hi+28(FP), Y5

clip32:
	CMPQ    CX, $32
	JLT     clip8
	VMOVUPS (SI), Y1
	VMOVUPS 32(SI), Y2
	VMOVUPS 64(SI), Y3
	VMOVUPS 96(SI), Y4
	VMAXPS  Y1, Y0, Y1
	VMAXPS  Y2, Y0, Y2
	VMAXPS  Y3, Y0, Y3
	VMAXPS  Y4, Y0, Y4
	VMINPS  Y1, Y5, Y1
	VMINPS  Y2, Y5, Y2
	VMINPS  Y3, Y5, Y3
	VMINPS  Y4, Y5, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     clip32

clip8:
	CMPQ    CX, $8
	JLT     clipdone
	VMOVUPS (SI), Y1
	VMAXPS  Y1, Y0, Y1
	VMINPS  Y1, Y5, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     clip8

clipdone:
	VZEROUPPER
	RET
