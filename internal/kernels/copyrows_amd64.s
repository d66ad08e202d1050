//go:build !purego

#include "textflag.h"

// func copyRowsAVX2(dst *float32, ds int, src *float32, ss int, n, span int)
// Row i: span floats from src + i*ss to dst + i*ds, as span/8 vector
// moves and, for the span%8 values left, one more: the vector that ends
// at the row's end (overlapping the one before, same values) when span
// >= 8, else two overlapping 4-value moves (4 to 7 values) or single
// ones (VMASKMOVPS stores are microcoded on AMD).
TEXT ·copyRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ds+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ ss+24(FP), R9
	SHLQ $2, R9
	MOVQ n+32(FP), CX
	MOVQ span+40(FP), R10
	MOVQ R10, R12
	SHLQ $2, R12
	SUBQ $32, R12     // byte offset of a row's last whole vector
	MOVQ R10, R11
	SHRQ $3, R11      // whole vectors a row
	ANDQ $7, R10      // values in the tail
row:
	MOVQ SI, AX
	MOVQ DI, BX
	MOVQ R11, DX
	TESTQ DX, DX
	JZ tail
vec:
	VMOVUPS (AX), Y0
	VMOVUPS Y0, (BX)
	ADDQ $32, AX
	ADDQ $32, BX
	DECQ DX
	JNZ vec
tail:
	TESTQ R10, R10
	JZ next
	TESTQ R11, R11
	JZ masked
	VMOVUPS (SI)(R12*1), Y0
	VMOVUPS Y0, (DI)(R12*1)
	JMP next
masked:
	CMPQ R10, $4
	JLT scalar
	VMOVUPS (AX), X0             // 4 to 7 values: two 4-value moves,
	VMOVUPS X0, (BX)             // the second ending at the row's end
	VMOVUPS 16(AX)(R12*1), X0
	VMOVUPS X0, 16(BX)(R12*1)
	JMP next
scalar:
	MOVQ R10, DX
scalar1:
	MOVSS (AX), X0
	MOVSS X0, (BX)
	ADDQ $4, AX
	ADDQ $4, BX
	DECQ DX
	JNZ scalar1
next:
	ADDQ R9, SI
	ADDQ R8, DI
	DECQ CX
	JNZ row
	VZEROUPPER
	RET
