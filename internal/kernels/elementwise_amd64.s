//go:build !purego

#include "textflag.h"

// Element-wise kernels (AVX2). n is a positive multiple of 8. Go assembly
// operand order is reversed from Intel's: VMAXPS src2, src1, dst computes
// dst = src1 > src2 ? src1 : src2 (src2 when either is NaN).

// func reluAVX2(dst, src *float32, n int)
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0

relu32:
	CMPQ CX, $32
	JLT  relu8
	VMOVUPS (SI), Y1
	VMOVUPS 32(SI), Y2
	VMOVUPS 64(SI), Y3
	VMOVUPS 96(SI), Y4
	VMAXPS  Y1, Y0, Y1
	VMAXPS  Y2, Y0, Y2
	VMAXPS  Y3, Y0, Y3
	VMAXPS  Y4, Y0, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     relu32

relu8:
	CMPQ CX, $8
	JLT  reludone
	VMOVUPS (SI), Y1
	VMAXPS  Y1, Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     relu8

reludone:
	VZEROUPPER
	RET

// func reluGradAVX2(dx, dy, y *float32, n int)
// dx = dy where int32(bits(y)) > 0, else 0.
TEXT ·reluGradAVX2(SB), NOSPLIT, $0-32
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	VPXOR Y0, Y0, Y0

rg32:
	CMPQ CX, $32
	JLT  rg8
	VMOVDQU  (DX), Y1
	VMOVDQU  32(DX), Y2
	VMOVDQU  64(DX), Y3
	VMOVDQU  96(DX), Y4
	VPCMPGTD Y0, Y1, Y1
	VPCMPGTD Y0, Y2, Y2
	VPCMPGTD Y0, Y3, Y3
	VPCMPGTD Y0, Y4, Y4
	VPAND    (SI), Y1, Y1
	VPAND    32(SI), Y2, Y2
	VPAND    64(SI), Y3, Y3
	VPAND    96(SI), Y4, Y4
	VMOVDQU  Y1, (DI)
	VMOVDQU  Y2, 32(DI)
	VMOVDQU  Y3, 64(DI)
	VMOVDQU  Y4, 96(DI)
	ADDQ     $128, SI
	ADDQ     $128, DI
	ADDQ     $128, DX
	SUBQ     $32, CX
	JMP      rg32

rg8:
	CMPQ CX, $8
	JLT  rgdone
	VMOVDQU  (DX), Y1
	VPCMPGTD Y0, Y1, Y1
	VPAND    (SI), Y1, Y1
	VMOVDQU  Y1, (DI)
	ADDQ     $32, SI
	ADDQ     $32, DI
	ADDQ     $32, DX
	SUBQ     $8, CX
	JMP      rg8

rgdone:
	VZEROUPPER
	RET

// func addAVX2(dst, src *float32, n int)
TEXT ·addAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

add32:
	CMPQ CX, $32
	JLT  add8
	VMOVUPS (DI), Y1
	VMOVUPS 32(DI), Y2
	VMOVUPS 64(DI), Y3
	VMOVUPS 96(DI), Y4
	VADDPS  (SI), Y1, Y1
	VADDPS  32(SI), Y2, Y2
	VADDPS  64(SI), Y3, Y3
	VADDPS  96(SI), Y4, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     add32

add8:
	CMPQ CX, $8
	JLT  adddone
	VMOVUPS (DI), Y1
	VADDPS  (SI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     add8

adddone:
	VZEROUPPER
	RET

// func addReluAVX2(dst, b *float32, n int)
// dst = max(dst + b, 0) (zero as src1, so a NaN sum is kept).
TEXT ·addReluAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0

ar32:
	CMPQ CX, $32
	JLT  ar8
	VMOVUPS (DI), Y1
	VMOVUPS 32(DI), Y2
	VMOVUPS 64(DI), Y3
	VMOVUPS 96(DI), Y4
	VADDPS  (SI), Y1, Y1
	VADDPS  32(SI), Y2, Y2
	VADDPS  64(SI), Y3, Y3
	VADDPS  96(SI), Y4, Y4
	VMAXPS  Y1, Y0, Y1
	VMAXPS  Y2, Y0, Y2
	VMAXPS  Y3, Y0, Y3
	VMAXPS  Y4, Y0, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     ar32

ar8:
	CMPQ CX, $8
	JLT  ardone
	VMOVUPS (DI), Y1
	VADDPS  (SI), Y1, Y1
	VMAXPS  Y1, Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     ar8

ardone:
	VZEROUPPER
	RET

// func addClipAVX2(dst, b *float32, n int, lo, hi float32)
// dst = min(max(dst+b, lo), hi), n a multiple of 8; a NaN sum stays NaN
// (the sum is each instruction's second source), as in Clip.
TEXT ·addClipAVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         b+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS lo+24(FP), Y14
	VBROADCASTSS hi+28(FP), Y13

ac32:
	CMPQ    CX, $32
	JLT     ac8
	VMOVUPS (DI), Y1
	VMOVUPS 32(DI), Y2
	VMOVUPS 64(DI), Y3
	VMOVUPS 96(DI), Y4
	VADDPS  (SI), Y1, Y1
	VADDPS  32(SI), Y2, Y2
	VADDPS  64(SI), Y3, Y3
	VADDPS  96(SI), Y4, Y4
	VMAXPS  Y1, Y14, Y1
	VMAXPS  Y2, Y14, Y2
	VMAXPS  Y3, Y14, Y3
	VMAXPS  Y4, Y14, Y4
	VMINPS  Y1, Y13, Y1
	VMINPS  Y2, Y13, Y2
	VMINPS  Y3, Y13, Y3
	VMINPS  Y4, Y13, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     ac32

ac8:
	CMPQ    CX, $8
	JLT     acdone
	VMOVUPS (DI), Y1
	VADDPS  (SI), Y1, Y1
	VMAXPS  Y1, Y14, Y1
	VMINPS  Y1, Y13, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     ac8

acdone:
	VZEROUPPER
	RET

// Pooling: for each of ow output pixels, channel blocks of 8 at byte
// offsets 0, 32, ... below (c-8)*4, then one block at (c-8)*4. AX is the
// block's byte offset, R10 = c*4 (the step to the right-hand pixel of a
// window), R11 = (c-8)*4.

// POOLFWD: y = max over (0,0), (0,1), (1,0), (1,1), strictly-greater
// replaces (src1 = candidate, src2 = running max).
#define POOLFWD \
	VMOVUPS (SI)(AX*1), Y0; \
	VMOVUPS (DX)(AX*1), Y2; \
	ADDQ    R10, AX; \
	VMOVUPS (SI)(AX*1), Y1; \
	VMOVUPS (DX)(AX*1), Y3; \
	SUBQ    R10, AX; \
	VMAXPS  Y0, Y1, Y0; \
	VMAXPS  Y0, Y2, Y0; \
	VMAXPS  Y0, Y3, Y0; \
	VMOVUPS Y0, (DI)(AX*1)

// func maxPool2x2AVX2(dst, r0, r1 *float32, ow, c int)
TEXT ·maxPool2x2AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ ow+24(FP), CX
	MOVQ c+32(FP), R10
	SHLQ $2, R10
	LEAQ -32(R10), R11

mpPixel:
	XORQ AX, AX

mpBlock:
	CMPQ AX, R11
	JGE  mpLast
	POOLFWD
	ADDQ $32, AX
	JMP  mpBlock

mpLast:
	MOVQ R11, AX
	POOLFWD
	ADDQ R10, DI
	LEAQ (SI)(R10*2), SI
	LEAQ (DX)(R10*2), DX
	DECQ CX
	JNZ  mpPixel
	VZEROUPPER
	RET

// POOLBWD: masks of the first window position whose bits equal y, and
// dy & mask written to each of the four positions.
#define POOLBWD \
	VMOVDQU  (R14)(AX*1), Y4; \
	VMOVDQU  (BX)(AX*1), Y5; \
	VPCMPGTD Y8, Y4, Y7; \
	VPOR     Y9, Y7, Y7; \
	VPAND    Y7, Y5, Y5; \
	VPCMPEQD (SI)(AX*1), Y4, Y0; \
	VPCMPEQD (DX)(AX*1), Y4, Y2; \
	ADDQ     R10, AX; \
	VPCMPEQD (SI)(AX*1), Y4, Y1; \
	VPCMPEQD (DX)(AX*1), Y4, Y3; \
	VPANDN   Y1, Y0, Y1; \
	VPOR     Y0, Y1, Y6; \
	VPANDN   Y2, Y6, Y2; \
	VPOR     Y6, Y2, Y6; \
	VPANDN   Y3, Y6, Y3; \
	VPAND    Y5, Y1, Y1; \
	VPAND    Y5, Y3, Y3; \
	VMOVDQU  Y1, (R8)(AX*1); \
	VMOVDQU  Y3, (R9)(AX*1); \
	SUBQ     R10, AX; \
	VPAND    Y5, Y0, Y0; \
	VPAND    Y5, Y2, Y2; \
	VMOVDQU  Y0, (R8)(AX*1); \
	VMOVDQU  Y2, (R9)(AX*1)

// func maxPool2x2GradAVX2(dx0, dx1, r0, r1, y, dy *float32, ow, c, relu int)
// With relu != 0, dy is kept only where int32(bits(y)) > 0: Y8 is zero,
// Y9 all ones without relu (so the mask passes everything), zero with it.
TEXT ·maxPool2x2GradAVX2(SB), NOSPLIT, $0-72
	MOVQ dx0+0(FP), R8
	MOVQ dx1+8(FP), R9
	MOVQ r0+16(FP), SI
	MOVQ r1+24(FP), DX
	MOVQ y+32(FP), R14
	MOVQ dy+40(FP), BX
	MOVQ ow+48(FP), CX
	MOVQ c+56(FP), R10
	SHLQ $2, R10
	LEAQ -32(R10), R11
	VPXOR    Y8, Y8, Y8
	VPCMPEQD Y9, Y9, Y9
	MOVQ     relu+64(FP), AX
	TESTQ    AX, AX
	JZ       mgPixel
	VPXOR    Y9, Y9, Y9

mgPixel:
	XORQ AX, AX

mgBlock:
	CMPQ AX, R11
	JGE  mgLast
	POOLBWD
	ADDQ $32, AX
	JMP  mgBlock

mgLast:
	MOVQ R11, AX
	POOLBWD
	ADDQ R10, R14
	ADDQ R10, BX
	LEAQ (SI)(R10*2), SI
	LEAQ (DX)(R10*2), DX
	LEAQ (R8)(R10*2), R8
	LEAQ (R9)(R10*2), R9
	DECQ CX
	JNZ  mgPixel
	VZEROUPPER
	RET

// func mulIfEqualAVX2(dst, src, a, b *float32, n int)
// dst = src * (a == b ? 1 : 0): the compare's all-ones lanes AND 1.0.
TEXT ·mulIfEqualAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ a+16(FP), R8
	MOVQ b+24(FP), R9
	MOVQ n+32(FP), CX
	MOVL $0x3f800000, AX
	MOVL AX, X15
	VBROADCASTSS X15, Y15
mieloop:
	VMOVUPS (R8), Y0
	VCMPPS  $0, (R9), Y0, Y0
	VANDPS  Y15, Y0, Y0
	VMULPS  (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, R8
	ADDQ    $32, R9
	SUBQ    $8, CX
	JNZ     mieloop
	VZEROUPPER
	RET
