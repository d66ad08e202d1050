//go:build !purego

#include "textflag.h"

// func transpose8AVX2(dst *float32, ldd int, src *float32, lds int, blocks int)
// Transposes blocks 8x8 tiles: tile k is src rows 0..7, columns 8k..8k+7
// (row stride lds floats), written to dst rows 8k..8k+7, columns 0..7
// (row stride ldd). Per tile: unpack pairs of rows, shuffle quadruples,
// then swap 128-bit lanes.
TEXT ·transpose8AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R9
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R8
	MOVQ blocks+32(FP), CX
	SHLQ $2, R8            // strides in bytes
	SHLQ $2, R9
	LEAQ (R8)(R8*2), R12   // 3 source rows
	LEAQ (R9)(R9*2), R14   // 3 destination rows
	LEAQ (SI)(R8*4), R10   // source row 4
	LEAQ (DI)(R9*4), R13   // destination row 4
	MOVQ R9, R15
	SHLQ $3, R15           // 8 destination rows

tile:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (SI)(R12*1), Y3
	VMOVUPS (R10), Y4
	VMOVUPS (R10)(R8*1), Y5
	VMOVUPS (R10)(R8*2), Y6
	VMOVUPS (R10)(R12*1), Y7

	VUNPCKLPS Y1, Y0, Y8   // a00 a10 a01 a11 | a04 a14 a05 a15
	VUNPCKHPS Y1, Y0, Y9   // a02 a12 a03 a13 | a06 a16 a07 a17
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	VSHUFPS $0x44, Y10, Y8, Y0  // a00 a10 a20 a30 | a04 a14 a24 a34
	VSHUFPS $0xEE, Y10, Y8, Y1  // column 1 | column 5, rows 0-3
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4 // rows 4-7
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	VPERM2F128 $0x20, Y4, Y0, Y8  // column 0
	VPERM2F128 $0x20, Y5, Y1, Y9  // column 1
	VPERM2F128 $0x20, Y6, Y2, Y10 // column 2
	VPERM2F128 $0x20, Y7, Y3, Y11 // column 3
	VPERM2F128 $0x31, Y4, Y0, Y12 // column 4
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	VMOVUPS Y8, (DI)
	VMOVUPS Y9, (DI)(R9*1)
	VMOVUPS Y10, (DI)(R9*2)
	VMOVUPS Y11, (DI)(R14*1)
	VMOVUPS Y12, (R13)
	VMOVUPS Y13, (R13)(R9*1)
	VMOVUPS Y14, (R13)(R9*2)
	VMOVUPS Y15, (R13)(R14*1)

	ADDQ $32, SI
	ADDQ $32, R10
	ADDQ R15, DI
	ADDQ R15, R13
	DECQ CX
	JNZ  tile

	VZEROUPPER
	RET

// Permutation indexes of interleave3AVX2: output vector v of 8 pixels
// takes, at each position, that index of all three rows; blends then keep
// row 0, 1 or 2 by position.
DATA il3<>+0(SB)/4, $0
DATA il3<>+4(SB)/4, $0
DATA il3<>+8(SB)/4, $0
DATA il3<>+12(SB)/4, $1
DATA il3<>+16(SB)/4, $1
DATA il3<>+20(SB)/4, $1
DATA il3<>+24(SB)/4, $2
DATA il3<>+28(SB)/4, $2
DATA il3<>+32(SB)/4, $2
DATA il3<>+36(SB)/4, $3
DATA il3<>+40(SB)/4, $3
DATA il3<>+44(SB)/4, $3
DATA il3<>+48(SB)/4, $4
DATA il3<>+52(SB)/4, $4
DATA il3<>+56(SB)/4, $4
DATA il3<>+60(SB)/4, $5
DATA il3<>+64(SB)/4, $5
DATA il3<>+68(SB)/4, $5
DATA il3<>+72(SB)/4, $6
DATA il3<>+76(SB)/4, $6
DATA il3<>+80(SB)/4, $6
DATA il3<>+84(SB)/4, $7
DATA il3<>+88(SB)/4, $7
DATA il3<>+92(SB)/4, $7
GLOBL il3<>(SB), RODATA|NOPTR, $96

// func interleave3AVX2(dst, r0, r1, r2 *float32, n int)
// dst[3j+c] = rc[j] for j < n (n a positive multiple of 8): three planes
// (an RGB image's NCHW channels) into pixels (NHWC), 8 pixels per pass:
// three permutes and two blends for each of the 24 values' 3 vectors.
TEXT ·interleave3AVX2(SB), NOSPLIT, $0-40
	MOVQ    dst+0(FP), DI
	MOVQ    r0+8(FP), SI
	MOVQ    r1+16(FP), DX
	MOVQ    r2+24(FP), BX
	MOVQ    n+32(FP), CX
	VMOVUPS il3<>+0(SB), Y13
	VMOVUPS il3<>+32(SB), Y14
	VMOVUPS il3<>+64(SB), Y15

il3loop:
	VMOVUPS  (SI), Y0
	VMOVUPS  (DX), Y1
	VMOVUPS  (BX), Y2
	VPERMPS  Y0, Y13, Y3
	VPERMPS  Y1, Y13, Y4
	VPERMPS  Y2, Y13, Y5
	VBLENDPS $0x92, Y4, Y3, Y3
	VBLENDPS $0x24, Y5, Y3, Y3
	VMOVUPS  Y3, (DI)
	VPERMPS  Y0, Y14, Y6
	VPERMPS  Y1, Y14, Y7
	VPERMPS  Y2, Y14, Y8
	VBLENDPS $0x24, Y7, Y6, Y6
	VBLENDPS $0x49, Y8, Y6, Y6
	VMOVUPS  Y6, 32(DI)
	VPERMPS  Y0, Y15, Y9
	VPERMPS  Y1, Y15, Y10
	VPERMPS  Y2, Y15, Y11
	VBLENDPS $0x49, Y10, Y9, Y9
	VBLENDPS $0x92, Y11, Y9, Y9
	VMOVUPS  Y9, 64(DI)
	ADDQ     $32, SI
	ADDQ     $32, DX
	ADDQ     $32, BX
	ADDQ     $96, DI
	SUBQ     $8, CX
	JNZ      il3loop
	VZEROUPPER
	RET
