//go:build !purego

#include "textflag.h"

// func columnSums32AVX2(dst, src *float32, rows, stride int)
// dst[0:32] = sum over i < rows (rows >= 1) of src[i*stride:][0:32], the
// rows added in order into four registers.
TEXT ·columnSums32AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ stride+24(FP), DX
	SHLQ $2, DX
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	DECQ CX
	JZ   done32
loop32:
	ADDQ DX, SI
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	VADDPS 64(SI), Y2, Y2
	VADDPS 96(SI), Y3, Y3
	DECQ CX
	JNZ  loop32
done32:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VZEROUPPER
	RET

// func columnSums8AVX2(dst, src *float32, rows, stride int)
TEXT ·columnSums8AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), CX
	MOVQ stride+24(FP), DX
	SHLQ $2, DX
	VMOVUPS (SI), Y0
	DECQ CX
	JZ   done8
loop8:
	ADDQ DX, SI
	VADDPS (SI), Y0, Y0
	DECQ CX
	JNZ  loop8
done8:
	VMOVUPS Y0, (DI)
	VZEROUPPER
	RET
