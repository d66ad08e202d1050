//go:build !purego

#include "textflag.h"

// Per-channel kernels (AVX2) on rows of c float32 channels; each handles
// the first cb channels (cb a positive multiple of 8) of every row, and the
// Go loops of chan.go the others. The operations are those of the Go loops
// in the same order (no FMA), so the results are the same bits. Go
// assembly operand order is reversed from Intel's: VSUBPD a, b, d computes
// d = b - a.

// MOMROW8(off, a0, a1, q0, q1, r0, r1) adds one row's 8 channels at byte
// offset off of AX into the sums a (of x-ref) and q (of (x-ref)^2), with
// ref in r0, r1 (float64); clobbers Y4, Y5.
#define MOMROW8(off, a0, a1, q0, q1, r0, r1) \
	VCVTPS2PD off(AX), Y4 \
	VCVTPS2PD off+16(AX), Y5 \
	VSUBPD    r0, Y4, Y4 \
	VSUBPD    r1, Y5, Y5 \
	VADDPD    Y4, a0, a0 \
	VADDPD    Y5, a1, a1 \
	VMULPD    Y4, Y4, Y4 \
	VMULPD    Y5, Y5, Y5 \
	VADDPD    Y4, q0, q0 \
	VADDPD    Y5, q1, q1

// func chanMomentsAVX2(s1, s2 *float64, x *float32, ref *float64, rows, c, cb int)
// Blocks of 16 channels (two independent sets of sums, to hide the
// latency of the additions), then one of 8 if cb is an odd multiple of 8.
TEXT ·chanMomentsAVX2(SB), NOSPLIT, $0-56
	MOVQ s1+0(FP), DI
	MOVQ s2+8(FP), R9
	MOVQ x+16(FP), SI
	MOVQ ref+24(FP), R8
	MOVQ rows+32(FP), BX
	MOVQ c+40(FP), R10
	SHLQ $2, R10
	MOVQ cb+48(FP), R11

mom16:
	CMPQ    R11, $16
	JLT     mom8
	VXORPD  Y0, Y0, Y0
	VXORPD  Y1, Y1, Y1
	VXORPD  Y2, Y2, Y2
	VXORPD  Y3, Y3, Y3
	VXORPD  Y6, Y6, Y6
	VXORPD  Y7, Y7, Y7
	VXORPD  Y8, Y8, Y8
	VXORPD  Y9, Y9, Y9
	VMOVUPD (R8), Y12
	VMOVUPD 32(R8), Y13
	VMOVUPD 64(R8), Y14
	VMOVUPD 96(R8), Y15
	MOVQ    SI, AX
	MOVQ    BX, CX

mom16row:
	MOMROW8(0, Y0, Y1, Y2, Y3, Y12, Y13)
	MOMROW8(32, Y6, Y7, Y8, Y9, Y14, Y15)
	ADDQ R10, AX
	DECQ CX
	JNZ  mom16row
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y6, 64(DI)
	VMOVUPD Y7, 96(DI)
	VMOVUPD Y2, (R9)
	VMOVUPD Y3, 32(R9)
	VMOVUPD Y8, 64(R9)
	VMOVUPD Y9, 96(R9)
	ADDQ    $128, DI
	ADDQ    $128, R9
	ADDQ    $128, R8
	ADDQ    $64, SI
	SUBQ    $16, R11
	JMP     mom16

mom8:
	CMPQ    R11, $8
	JLT     momdone
	VXORPD  Y0, Y0, Y0
	VXORPD  Y1, Y1, Y1
	VXORPD  Y2, Y2, Y2
	VXORPD  Y3, Y3, Y3
	VMOVUPD (R8), Y12
	VMOVUPD 32(R8), Y13
	MOVQ    SI, AX
	MOVQ    BX, CX

mom8row:
	MOMROW8(0, Y0, Y1, Y2, Y3, Y12, Y13)
	ADDQ R10, AX
	DECQ CX
	JNZ  mom8row
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, (R9)
	VMOVUPD Y3, 32(R9)

momdone:
	VZEROUPPER
	RET

// GSROW8(off, moff, a0, a1, q0, q1) adds one row's 8 channels at byte
// offset off of AX (x) and DX (dy) into a (sum of dy) and q (sum of
// dy*(x-mean)), mean at byte offset moff of R8; clobbers Y4, Y5, Y10, Y11.
#define GSROW8(off, moff, a0, a1, q0, q1) \
	VMOVUPS      off(AX), Y10 \
	VSUBPS       moff(R8), Y10, Y10 \
	VCVTPS2PD    X10, Y11 \
	VEXTRACTF128 $1, Y10, X10 \
	VCVTPS2PD    X10, Y10 \
	VCVTPS2PD    off(DX), Y4 \
	VCVTPS2PD    off+16(DX), Y5 \
	VADDPD       Y4, a0, a0 \
	VADDPD       Y5, a1, a1 \
	VMULPD       Y11, Y4, Y4 \
	VMULPD       Y10, Y5, Y5 \
	VADDPD       Y4, q0, q0 \
	VADDPD       Y5, q1, q1

// func chanGradSumsAVX2(s1, s2 *float64, dy, x, mean *float32, rows, c, cb int)
TEXT ·chanGradSumsAVX2(SB), NOSPLIT, $0-64
	MOVQ s1+0(FP), DI
	MOVQ s2+8(FP), R9
	MOVQ dy+16(FP), R12
	MOVQ x+24(FP), SI
	MOVQ mean+32(FP), R8
	MOVQ rows+40(FP), BX
	MOVQ c+48(FP), R10
	SHLQ $2, R10
	MOVQ cb+56(FP), R11

gs16:
	CMPQ   R11, $16
	JLT    gs8
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	MOVQ   SI, AX
	MOVQ   R12, DX
	MOVQ   BX, CX

gs16row:
	GSROW8(0, 0, Y0, Y1, Y2, Y3)
	GSROW8(32, 32, Y6, Y7, Y8, Y9)
	ADDQ R10, AX
	ADDQ R10, DX
	DECQ CX
	JNZ  gs16row
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y6, 64(DI)
	VMOVUPD Y7, 96(DI)
	VMOVUPD Y2, (R9)
	VMOVUPD Y3, 32(R9)
	VMOVUPD Y8, 64(R9)
	VMOVUPD Y9, 96(R9)
	ADDQ    $128, DI
	ADDQ    $128, R9
	ADDQ    $64, R8
	ADDQ    $64, SI
	ADDQ    $64, R12
	SUBQ    $16, R11
	JMP     gs16

gs8:
	CMPQ   R11, $8
	JLT    gsdone
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	MOVQ   SI, AX
	MOVQ   R12, DX
	MOVQ   BX, CX

gs8row:
	GSROW8(0, 0, Y0, Y1, Y2, Y3)
	ADDQ R10, AX
	ADDQ R10, DX
	DECQ CX
	JNZ  gs8row
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, (R9)
	VMOVUPD Y3, 32(R9)

gsdone:
	VZEROUPPER
	RET

// func chanAffineAVX2(y, x, mean, a, b *float32, rows, c, cb int)
// y = (x - mean)*a + b.
TEXT ·chanAffineAVX2(SB), NOSPLIT, $0-64
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ mean+16(FP), R8
	MOVQ a+24(FP), R9
	MOVQ b+32(FP), R12
	MOVQ rows+40(FP), BX
	MOVQ c+48(FP), R10
	SHLQ $2, R10
	MOVQ cb+56(FP), R11
	SHLQ $2, R11

afrow:
	XORQ DX, DX

afblk:
	VMOVUPS (SI)(DX*1), Y0
	VSUBPS  (R8)(DX*1), Y0, Y0
	VMULPS  (R9)(DX*1), Y0, Y0
	VADDPS  (R12)(DX*1), Y0, Y0
	VMOVUPS Y0, (DI)(DX*1)
	ADDQ    $32, DX
	CMPQ    DX, R11
	JLT     afblk
	ADDQ    R10, SI
	ADDQ    R10, DI
	DECQ    BX
	JNZ     afrow
	VZEROUPPER
	RET

// func chanScaleAVX2(y, dy, a *float32, rows, c, cb int)
// y = dy*a.
TEXT ·chanScaleAVX2(SB), NOSPLIT, $0-48
	MOVQ y+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ a+16(FP), R9
	MOVQ rows+24(FP), BX
	MOVQ c+32(FP), R10
	SHLQ $2, R10
	MOVQ cb+40(FP), R11
	SHLQ $2, R11

scrow:
	XORQ DX, DX

scblk:
	VMOVUPS (SI)(DX*1), Y0
	VMULPS  (R9)(DX*1), Y0, Y0
	VMOVUPS Y0, (DI)(DX*1)
	ADDQ    $32, DX
	CMPQ    DX, R11
	JLT     scblk
	ADDQ    R10, SI
	ADDQ    R10, DI
	DECQ    BX
	JNZ     scrow
	VZEROUPPER
	RET

// func chanGradInputAVX2(dx, dy, x, mean, a, b, cc *float32, rows, c, cb int)
// dx = a*dy + b*(x - mean) + cc.
TEXT ·chanGradInputAVX2(SB), NOSPLIT, $0-80
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), R13
	MOVQ x+16(FP), SI
	MOVQ mean+24(FP), R8
	MOVQ a+32(FP), R9
	MOVQ b+40(FP), R12
	MOVQ cc+48(FP), R14
	MOVQ rows+56(FP), BX
	MOVQ c+64(FP), R10
	SHLQ $2, R10
	MOVQ cb+72(FP), R11
	SHLQ $2, R11

girow:
	XORQ DX, DX

giblk:
	VMOVUPS (R13)(DX*1), Y0
	VMULPS  (R9)(DX*1), Y0, Y0
	VMOVUPS (SI)(DX*1), Y1
	VSUBPS  (R8)(DX*1), Y1, Y1
	VMULPS  (R12)(DX*1), Y1, Y1
	VADDPS  Y1, Y0, Y0
	VADDPS  (R14)(DX*1), Y0, Y0
	VMOVUPS Y0, (DI)(DX*1)
	ADDQ    $32, DX
	CMPQ    DX, R11
	JLT     giblk
	ADDQ    R10, SI
	ADDQ    R10, DI
	ADDQ    R10, R13
	DECQ    BX
	JNZ     girow
	VZEROUPPER
	RET

// func chanPReLUAVX2(y, x, a *float32, rows, c, cb int)
// y = x * (x > 0 ? 1 : a), "x > 0" on the int32 bits as prMask.
TEXT ·chanPReLUAVX2(SB), NOSPLIT, $0-48
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         a+16(FP), R9
	MOVQ         rows+24(FP), BX
	MOVQ         c+32(FP), R10
	SHLQ         $2, R10
	MOVQ         cb+40(FP), R11
	SHLQ         $2, R11
	MOVL         $0x3f800000, AX
	MOVQ         AX, X14
	VBROADCASTSS X14, Y14
	VPXOR        Y15, Y15, Y15

prrow:
	XORQ DX, DX

prblk:
	VMOVUPS   (SI)(DX*1), Y0
	VPCMPGTD  Y15, Y0, Y1
	VMOVUPS   (R9)(DX*1), Y2
	VBLENDVPS Y1, Y14, Y2, Y2
	VMULPS    Y2, Y0, Y0
	VMOVUPS   Y0, (DI)(DX*1)
	ADDQ      $32, DX
	CMPQ      DX, R11
	JLT       prblk
	ADDQ      R10, SI
	ADDQ      R10, DI
	DECQ      BX
	JNZ       prrow
	VZEROUPPER
	RET

// func chanPReLUGradAVX2(s *float64, dx, dy, x, a *float32, rows, c, cb, wantDx int)
// s = sum of dy * (x > 0 ? 0 : x) per channel; dx = dy * (x > 0 ? 1 : a)
// when wantDx is not 0. Blocks of 8 channels, the rows inside.
TEXT ·chanPReLUGradAVX2(SB), NOSPLIT, $0-72
	MOVQ         s+0(FP), R8
	MOVQ         dx+8(FP), R12
	MOVQ         dy+16(FP), R13
	MOVQ         x+24(FP), SI
	MOVQ         a+32(FP), R9
	MOVQ         rows+40(FP), BX
	MOVQ         c+48(FP), R10
	SHLQ         $2, R10
	MOVQ         cb+56(FP), R11
	MOVQ         wantDx+64(FP), R14
	MOVL         $0x3f800000, AX
	MOVQ         AX, X14
	VBROADCASTSS X14, Y14
	VPXOR        Y15, Y15, Y15

pgblk:
	VXORPD  Y0, Y0, Y0
	VXORPD  Y1, Y1, Y1
	VMOVUPS (R9), Y13
	MOVQ    SI, AX
	MOVQ    R13, DX
	MOVQ    R12, DI
	MOVQ    BX, CX

pgrow:
	VMOVUPS      (AX), Y4
	VPCMPGTD     Y15, Y4, Y5
	VMOVUPS      (DX), Y6
	VANDNPS      Y4, Y5, Y7
	VMULPS       Y7, Y6, Y7
	VCVTPS2PD    X7, Y8
	VADDPD       Y8, Y0, Y0
	VEXTRACTF128 $1, Y7, X7
	VCVTPS2PD    X7, Y7
	VADDPD       Y7, Y1, Y1
	TESTQ        R14, R14
	JZ           pgnext
	VBLENDVPS    Y5, Y14, Y13, Y9
	VMULPS       Y9, Y6, Y9
	VMOVUPS      Y9, (DI)

pgnext:
	ADDQ R10, AX
	ADDQ R10, DX
	ADDQ R10, DI
	DECQ CX
	JNZ  pgrow
	VMOVUPD Y0, (R8)
	VMOVUPD Y1, 32(R8)
	ADDQ    $64, R8
	ADDQ    $32, R9
	ADDQ    $32, SI
	ADDQ    $32, R13
	ADDQ    $32, R12
	SUBQ    $8, R11
	JNZ     pgblk
	VZEROUPPER
	RET
