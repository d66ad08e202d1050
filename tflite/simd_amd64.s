//go:build amd64 && !purego

#include "textflag.h"

// func requantAVX2(v, b, s []float32, lo, hi float32)
// v[i] = roundHalfEven(clamp((v[i]+b[i])*s[i], lo, hi)) for len(v)&^7 elements.
TEXT ·requantAVX2(SB), NOSPLIT, $0-80
	MOVQ v_base+0(FP), DI
	MOVQ v_len+8(FP), CX
	MOVQ b_base+24(FP), SI
	MOVQ s_base+48(FP), DX
	VBROADCASTSS lo+72(FP), Y14
	VBROADCASTSS hi+76(FP), Y15
	SHRQ $3, CX
	JZ   rdone

rloop:
	VMOVUPS   (DI), Y0
	VADDPS    (SI), Y0, Y0
	VMULPS    (DX), Y0, Y0
	VMAXPS    Y14, Y0, Y0
	VMINPS    Y15, Y0, Y0
	VROUNDPS  $8, Y0, Y0
	VMOVUPS   Y0, (DI)
	ADDQ      $32, DI
	ADDQ      $32, SI
	ADDQ      $32, DX
	DECQ      CX
	JNZ       rloop

rdone:
	VZEROUPPER
	RET

// func mac3AVX2(acc, x0, x1, x2, w0, w1, w2 []float32)
// acc[i] += x0[i]*w0[i] + x1[i]*w1[i] + x2[i]*w2[i] for len(acc)&^7 elements.
TEXT ·mac3AVX2(SB), NOSPLIT, $0-168
	MOVQ acc_base+0(FP), DI
	MOVQ acc_len+8(FP), CX
	MOVQ x0_base+24(FP), R8
	MOVQ x1_base+48(FP), R9
	MOVQ x2_base+72(FP), R10
	MOVQ w0_base+96(FP), R11
	MOVQ w1_base+120(FP), R12
	MOVQ w2_base+144(FP), R13
	SHRQ $3, CX
	JZ   mdone

mloop:
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
	JNZ         mloop

mdone:
	VZEROUPPER
	RET
