//go:build !purego

#include "textflag.h"

// func requantizeAVX2(v, b, s *float32, n int, lo, hi float32)
// v[i] = roundHalfEven(clamp((v[i]+b[i])*s[i], lo, hi)); n is a multiple
// of 8.
TEXT ·requantizeAVX2(SB), NOSPLIT, $0-40
	MOVQ v+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ s+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS lo+32(FP), Y14
	VBROADCASTSS hi+36(FP), Y15
	SHRQ $3, CX
	JZ   rdone

rloop:
	VMOVUPS  (DI), Y0
	VADDPS   (SI), Y0, Y0
	VMULPS   (DX), Y0, Y0
	VMAXPS   Y14, Y0, Y0
	VMINPS   Y15, Y0, Y0
	VROUNDPS $8, Y0, Y0 // nearest, ties to even; no precision exception
	VMOVUPS  Y0, (DI)
	ADDQ     $32, DI
	ADDQ     $32, SI
	ADDQ     $32, DX
	DECQ     CX
	JNZ      rloop

rdone:
	VZEROUPPER
	RET
