//go:build amd64 && !purego

#include "textflag.h"

// func axpyNAVX2(o *float32, srcs *[]float32, ws *float32, ntaps, n int, set bool)
//
// o[i] (+)= sum_t ws[t] * srcs[t][i] for i < n, with n % 8 == 0 and
// ntaps >= 1; srcs points at ntaps slice headers (24 bytes apart), whose
// data pointers are read directly. Blocks of 32 outputs stay in four
// registers while every tap is added, so each output is loaded and
// stored once.
TEXT ·axpyNAVX2(SB), NOSPLIT, $0-41
	MOVQ o+0(FP), DI
	MOVQ srcs+8(FP), SI
	MOVQ ws+16(FP), R8
	MOVQ ntaps+24(FP), R9
	MOVQ n+32(FP), CX
	MOVBLZX set+40(FP), DX
	XORQ BX, BX // byte offset of the current block
	SHLQ $2, CX // n in bytes

block32:
	MOVQ CX, AX
	SUBQ BX, AX
	CMPQ AX, $128
	JLT block8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ R10, R10
	XORQ R12, R12 // byte offset of srcs[R10]

tap32:
	MOVQ (SI)(R12*1), R11
	ADDQ BX, R11
	VBROADCASTSS (R8)(R10*4), Y4
	VFMADD231PS (R11), Y4, Y0
	VFMADD231PS 32(R11), Y4, Y1
	VFMADD231PS 64(R11), Y4, Y2
	VFMADD231PS 96(R11), Y4, Y3
	ADDQ $24, R12
	INCQ R10
	CMPQ R10, R9
	JLT tap32
	TESTQ DX, DX
	JNZ store32
	VADDPS (DI)(BX*1), Y0, Y0
	VADDPS 32(DI)(BX*1), Y1, Y1
	VADDPS 64(DI)(BX*1), Y2, Y2
	VADDPS 96(DI)(BX*1), Y3, Y3

store32:
	VMOVUPS Y0, (DI)(BX*1)
	VMOVUPS Y1, 32(DI)(BX*1)
	VMOVUPS Y2, 64(DI)(BX*1)
	VMOVUPS Y3, 96(DI)(BX*1)
	ADDQ $128, BX
	JMP block32

block8:
	CMPQ BX, CX
	JGE done
	VXORPS Y0, Y0, Y0
	XORQ R10, R10
	XORQ R12, R12

tap8:
	MOVQ (SI)(R12*1), R11
	ADDQ BX, R11
	VBROADCASTSS (R8)(R10*4), Y4
	VFMADD231PS (R11), Y4, Y0
	ADDQ $24, R12
	INCQ R10
	CMPQ R10, R9
	JLT tap8
	TESTQ DX, DX
	JNZ store8
	VADDPS (DI)(BX*1), Y0, Y0

store8:
	VMOVUPS Y0, (DI)(BX*1)
	ADDQ $32, BX
	JMP block8

done:
	VZEROUPPER
	RET
