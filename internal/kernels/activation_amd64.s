//go:build !purego

#include "textflag.h"

// Activation kernels (AVX2 + FMA), the vector forms of the loops in
// activation.go. Go assembly operand order is reversed from Intel's:
// VFMADD213PS a, b, c computes c = b*c + a; VFMADD132PS a, b, c computes
// c = c*a + b; VFNMADD231PS a, b, c computes c = c - b*a; VBLENDVPS m, a,
// b, d sets d = a where the sign bit of m is set and b elsewhere. The FMAs
// round once where the Go loops round twice, so results may differ from
// them in the last bit (HardSwish, Clip and ClipGrad use the same
// operations and agree bit for bit).

// Constants, each repeated over a 32-byte vector.
#define SIGN actk<>+0(SB)
#define ABS actk<>+32(SB)
#define LOG2E actk<>+64(SB)
#define C1 actk<>+96(SB)
#define C2 actk<>+128(SB)
#define P0 actk<>+160(SB)
#define P1 actk<>+192(SB)
#define P2 actk<>+224(SB)
#define P3 actk<>+256(SB)
#define P4 actk<>+288(SB)
#define P5 actk<>+320(SB)
#define ONE actk<>+352(SB)
#define EXPMIN actk<>+384(SB)
#define BIAS actk<>+416(SB)
#define HALF actk<>+448(SB)
#define MHALF actk<>+480(SB)
#define GK2 actk<>+512(SB)
#define GK actk<>+544(SB)
#define GC actk<>+576(SB)
#define GC3 actk<>+608(SB)
#define TEN actk<>+640(SB)
#define MTEN actk<>+672(SB)
#define ISQ2 actk<>+704(SB)
#define ISQ2PI actk<>+736(SB)
#define M84 actk<>+768(SB)
#define E0 actk<>+800(SB)
#define E1 actk<>+832(SB)
#define E2 actk<>+864(SB)
#define E3 actk<>+896(SB)
#define E4 actk<>+928(SB)
#define E5 actk<>+960(SB)
#define E6 actk<>+992(SB)
#define E7 actk<>+1024(SB)
#define E8 actk<>+1056(SB)
#define E9 actk<>+1088(SB)
#define THREE actk<>+1120(SB)
#define MTHREE actk<>+1152(SB)
#define SIX actk<>+1184(SB)
#define THIRD actk<>+1216(SB)

DATA actk<>+0(SB)/8, $0x8000000080000000
DATA actk<>+8(SB)/8, $0x8000000080000000
DATA actk<>+16(SB)/8, $0x8000000080000000
DATA actk<>+24(SB)/8, $0x8000000080000000
DATA actk<>+32(SB)/8, $0x7fffffff7fffffff
DATA actk<>+40(SB)/8, $0x7fffffff7fffffff
DATA actk<>+48(SB)/8, $0x7fffffff7fffffff
DATA actk<>+56(SB)/8, $0x7fffffff7fffffff
DATA actk<>+64(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA actk<>+72(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA actk<>+80(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA actk<>+88(SB)/8, $0x3fb8aa3b3fb8aa3b
DATA actk<>+96(SB)/8, $0x3f3180003f318000
DATA actk<>+104(SB)/8, $0x3f3180003f318000
DATA actk<>+112(SB)/8, $0x3f3180003f318000
DATA actk<>+120(SB)/8, $0x3f3180003f318000
DATA actk<>+128(SB)/8, $0xb95e8083b95e8083
DATA actk<>+136(SB)/8, $0xb95e8083b95e8083
DATA actk<>+144(SB)/8, $0xb95e8083b95e8083
DATA actk<>+152(SB)/8, $0xb95e8083b95e8083
DATA actk<>+160(SB)/8, $0x3950696739506967
DATA actk<>+168(SB)/8, $0x3950696739506967
DATA actk<>+176(SB)/8, $0x3950696739506967
DATA actk<>+184(SB)/8, $0x3950696739506967
DATA actk<>+192(SB)/8, $0x3ab743ce3ab743ce
DATA actk<>+200(SB)/8, $0x3ab743ce3ab743ce
DATA actk<>+208(SB)/8, $0x3ab743ce3ab743ce
DATA actk<>+216(SB)/8, $0x3ab743ce3ab743ce
DATA actk<>+224(SB)/8, $0x3c0889083c088908
DATA actk<>+232(SB)/8, $0x3c0889083c088908
DATA actk<>+240(SB)/8, $0x3c0889083c088908
DATA actk<>+248(SB)/8, $0x3c0889083c088908
DATA actk<>+256(SB)/8, $0x3d2aa9c13d2aa9c1
DATA actk<>+264(SB)/8, $0x3d2aa9c13d2aa9c1
DATA actk<>+272(SB)/8, $0x3d2aa9c13d2aa9c1
DATA actk<>+280(SB)/8, $0x3d2aa9c13d2aa9c1
DATA actk<>+288(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA actk<>+296(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA actk<>+304(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA actk<>+312(SB)/8, $0x3e2aaaaa3e2aaaaa
DATA actk<>+320(SB)/8, $0x3f0000003f000000
DATA actk<>+328(SB)/8, $0x3f0000003f000000
DATA actk<>+336(SB)/8, $0x3f0000003f000000
DATA actk<>+344(SB)/8, $0x3f0000003f000000
DATA actk<>+352(SB)/8, $0x3f8000003f800000
DATA actk<>+360(SB)/8, $0x3f8000003f800000
DATA actk<>+368(SB)/8, $0x3f8000003f800000
DATA actk<>+376(SB)/8, $0x3f8000003f800000
DATA actk<>+384(SB)/8, $0xc2ac0000c2ac0000
DATA actk<>+392(SB)/8, $0xc2ac0000c2ac0000
DATA actk<>+400(SB)/8, $0xc2ac0000c2ac0000
DATA actk<>+408(SB)/8, $0xc2ac0000c2ac0000
DATA actk<>+416(SB)/8, $0x0000007f0000007f
DATA actk<>+424(SB)/8, $0x0000007f0000007f
DATA actk<>+432(SB)/8, $0x0000007f0000007f
DATA actk<>+440(SB)/8, $0x0000007f0000007f
DATA actk<>+448(SB)/8, $0x3f0000003f000000
DATA actk<>+456(SB)/8, $0x3f0000003f000000
DATA actk<>+464(SB)/8, $0x3f0000003f000000
DATA actk<>+472(SB)/8, $0x3f0000003f000000
DATA actk<>+480(SB)/8, $0xbf000000bf000000
DATA actk<>+488(SB)/8, $0xbf000000bf000000
DATA actk<>+496(SB)/8, $0xbf000000bf000000
DATA actk<>+504(SB)/8, $0xbf000000bf000000
DATA actk<>+512(SB)/8, $0x3fcc422a3fcc422a
DATA actk<>+520(SB)/8, $0x3fcc422a3fcc422a
DATA actk<>+528(SB)/8, $0x3fcc422a3fcc422a
DATA actk<>+536(SB)/8, $0x3fcc422a3fcc422a
DATA actk<>+544(SB)/8, $0x3f4c422a3f4c422a
DATA actk<>+552(SB)/8, $0x3f4c422a3f4c422a
DATA actk<>+560(SB)/8, $0x3f4c422a3f4c422a
DATA actk<>+568(SB)/8, $0x3f4c422a3f4c422a
DATA actk<>+576(SB)/8, $0x3d3727133d372713
DATA actk<>+584(SB)/8, $0x3d3727133d372713
DATA actk<>+592(SB)/8, $0x3d3727133d372713
DATA actk<>+600(SB)/8, $0x3d3727133d372713
DATA actk<>+608(SB)/8, $0x3e095d4f3e095d4f
DATA actk<>+616(SB)/8, $0x3e095d4f3e095d4f
DATA actk<>+624(SB)/8, $0x3e095d4f3e095d4f
DATA actk<>+632(SB)/8, $0x3e095d4f3e095d4f
DATA actk<>+640(SB)/8, $0x4120000041200000
DATA actk<>+648(SB)/8, $0x4120000041200000
DATA actk<>+656(SB)/8, $0x4120000041200000
DATA actk<>+664(SB)/8, $0x4120000041200000
DATA actk<>+672(SB)/8, $0xc1200000c1200000
DATA actk<>+680(SB)/8, $0xc1200000c1200000
DATA actk<>+688(SB)/8, $0xc1200000c1200000
DATA actk<>+696(SB)/8, $0xc1200000c1200000
DATA actk<>+704(SB)/8, $0x3f3504f33f3504f3
DATA actk<>+712(SB)/8, $0x3f3504f33f3504f3
DATA actk<>+720(SB)/8, $0x3f3504f33f3504f3
DATA actk<>+728(SB)/8, $0x3f3504f33f3504f3
DATA actk<>+736(SB)/8, $0x3ecc422a3ecc422a
DATA actk<>+744(SB)/8, $0x3ecc422a3ecc422a
DATA actk<>+752(SB)/8, $0x3ecc422a3ecc422a
DATA actk<>+760(SB)/8, $0x3ecc422a3ecc422a
DATA actk<>+768(SB)/8, $0xc2a80000c2a80000
DATA actk<>+776(SB)/8, $0xc2a80000c2a80000
DATA actk<>+784(SB)/8, $0xc2a80000c2a80000
DATA actk<>+792(SB)/8, $0xc2a80000c2a80000
DATA actk<>+800(SB)/8, $0x3e2ef9453e2ef945
DATA actk<>+808(SB)/8, $0x3e2ef9453e2ef945
DATA actk<>+816(SB)/8, $0x3e2ef9453e2ef945
DATA actk<>+824(SB)/8, $0x3e2ef9453e2ef945
DATA actk<>+832(SB)/8, $0xbf527892bf527892
DATA actk<>+840(SB)/8, $0xbf527892bf527892
DATA actk<>+848(SB)/8, $0xbf527892bf527892
DATA actk<>+856(SB)/8, $0xbf527892bf527892
DATA actk<>+864(SB)/8, $0x3fbe87b03fbe87b0
DATA actk<>+872(SB)/8, $0x3fbe87b03fbe87b0
DATA actk<>+880(SB)/8, $0x3fbe87b03fbe87b0
DATA actk<>+888(SB)/8, $0x3fbe87b03fbe87b0
DATA actk<>+896(SB)/8, $0xbf914e5dbf914e5d
DATA actk<>+904(SB)/8, $0xbf914e5dbf914e5d
DATA actk<>+912(SB)/8, $0xbf914e5dbf914e5d
DATA actk<>+920(SB)/8, $0xbf914e5dbf914e5d
DATA actk<>+928(SB)/8, $0x3e8ec7cc3e8ec7cc
DATA actk<>+936(SB)/8, $0x3e8ec7cc3e8ec7cc
DATA actk<>+944(SB)/8, $0x3e8ec7cc3e8ec7cc
DATA actk<>+952(SB)/8, $0x3e8ec7cc3e8ec7cc
DATA actk<>+960(SB)/8, $0xbe3ec24cbe3ec24c
DATA actk<>+968(SB)/8, $0xbe3ec24cbe3ec24c
DATA actk<>+976(SB)/8, $0xbe3ec24cbe3ec24c
DATA actk<>+984(SB)/8, $0xbe3ec24cbe3ec24c
DATA actk<>+992(SB)/8, $0x3dc636c93dc636c9
DATA actk<>+1000(SB)/8, $0x3dc636c93dc636c9
DATA actk<>+1008(SB)/8, $0x3dc636c93dc636c9
DATA actk<>+1016(SB)/8, $0x3dc636c93dc636c9
DATA actk<>+1024(SB)/8, $0x3ebf88fb3ebf88fb
DATA actk<>+1032(SB)/8, $0x3ebf88fb3ebf88fb
DATA actk<>+1040(SB)/8, $0x3ebf88fb3ebf88fb
DATA actk<>+1048(SB)/8, $0x3ebf88fb3ebf88fb
DATA actk<>+1056(SB)/8, $0x3f8000c73f8000c7
DATA actk<>+1064(SB)/8, $0x3f8000c73f8000c7
DATA actk<>+1072(SB)/8, $0x3f8000c73f8000c7
DATA actk<>+1080(SB)/8, $0x3f8000c73f8000c7
DATA actk<>+1088(SB)/8, $0xbfa1fc4ebfa1fc4e
DATA actk<>+1096(SB)/8, $0xbfa1fc4ebfa1fc4e
DATA actk<>+1104(SB)/8, $0xbfa1fc4ebfa1fc4e
DATA actk<>+1112(SB)/8, $0xbfa1fc4ebfa1fc4e
DATA actk<>+1120(SB)/8, $0x4040000040400000
DATA actk<>+1128(SB)/8, $0x4040000040400000
DATA actk<>+1136(SB)/8, $0x4040000040400000
DATA actk<>+1144(SB)/8, $0x4040000040400000
DATA actk<>+1152(SB)/8, $0xc0400000c0400000
DATA actk<>+1160(SB)/8, $0xc0400000c0400000
DATA actk<>+1168(SB)/8, $0xc0400000c0400000
DATA actk<>+1176(SB)/8, $0xc0400000c0400000
DATA actk<>+1184(SB)/8, $0x40c0000040c00000
DATA actk<>+1192(SB)/8, $0x40c0000040c00000
DATA actk<>+1200(SB)/8, $0x40c0000040c00000
DATA actk<>+1208(SB)/8, $0x40c0000040c00000
DATA actk<>+1216(SB)/8, $0x3eaaaaab3eaaaaab
DATA actk<>+1224(SB)/8, $0x3eaaaaab3eaaaaab
DATA actk<>+1232(SB)/8, $0x3eaaaaab3eaaaaab
DATA actk<>+1240(SB)/8, $0x3eaaaaab3eaaaaab
GLOBL actk<>(SB), RODATA|NOPTR, $1248

// EXPNP sets e = exp(a) for a <= 0.3 (the steps of expNonPos: n =
// round(a/ln2), r = a - n*ln2 in two parts, a degree-6 polynomial times
// 2^n), 0 where a < -86; a is kept, n, r and p are clobbered.
#define EXPNP(a, e, n, r, p) \
	VMULPS       LOG2E, a, n \
	VROUNDPS     $0, n, n \
	VMOVAPS      a, r \
	VFNMADD231PS C1, n, r \
	VFNMADD231PS C2, n, r \
	VMOVUPS      P0, p \
	VFMADD213PS  P1, r, p \
	VFMADD213PS  P2, r, p \
	VFMADD213PS  P3, r, p \
	VFMADD213PS  P4, r, p \
	VFMADD213PS  P5, r, p \
	VMULPS       r, p, p \
	VFMADD213PS  r, r, p \
	VADDPS       ONE, p, p \
	VCVTPS2DQ    n, n \
	VPADDD       BIAS, n, n \
	VPSLLD       $23, n, n \
	VMULPS       n, p, e \
	VCMPPS       $1, EXPMIN, a, n \
	VANDNPS      e, n, e

// SIGPAIR sets s = sigmoid(x) and c = 1 - s without cancellation: with e =
// exp(-|x|) and q = 1/(1+e), s = q and c = e*q for x >= 0, the other way
// round for x < 0 (the sign bit selects). Needs ONE in Y15; clobbers Y1-Y7.
#define SIGPAIR(x, s, c) \
	VORPS     SIGN, x, Y1 \
	EXPNP(Y1, Y5, Y2, Y3, Y4) \
	VADDPS    Y15, Y5, Y6 \
	VRCPPS    Y6, Y7 \
	VFNMADD213PS Y15, Y7, Y6 \
	VFMADD213PS  Y7, Y7, Y6 \
	VMULPS    Y6, Y5, Y7 \
	VBLENDVPS x, Y7, Y6, s \
	VBLENDVPS x, Y6, Y7, c

// SIG2 sets Y4 = sigmoid(Y0) and Y12 = sigmoid(Y8): SIGPAIR's steps
// (the same operations, so the same bits) on two vectors, interleaved
// step by step. One vector's chain of about 25 dependent operations
// fills the FP scheduler with waiting instructions and runs near its
// latency; two interleaved chains measured 1.15-1.3x faster
// (BenchmarkSiLU, 64K values: 52-57 -> 44-46 us; three chains do not fit
// in the registers). Needs ONE in Y15; clobbers Y1-Y3, Y5-Y7, Y9-Y11,
// Y13 and Y14.
#define SIG2 \
	VORPS        SIGN, Y0, Y1 \
	VORPS        SIGN, Y8, Y9 \
	VMULPS       LOG2E, Y1, Y2 \
	VMULPS       LOG2E, Y9, Y10 \
	VROUNDPS     $0, Y2, Y2 \
	VROUNDPS     $0, Y10, Y10 \
	VMOVAPS      Y1, Y3 \
	VMOVAPS      Y9, Y11 \
	VFNMADD231PS C1, Y2, Y3 \
	VFNMADD231PS C1, Y10, Y11 \
	VFNMADD231PS C2, Y2, Y3 \
	VFNMADD231PS C2, Y10, Y11 \
	VMOVUPS      P0, Y4 \
	VMOVUPS      P0, Y12 \
	VFMADD213PS  P1, Y3, Y4 \
	VFMADD213PS  P1, Y11, Y12 \
	VFMADD213PS  P2, Y3, Y4 \
	VFMADD213PS  P2, Y11, Y12 \
	VFMADD213PS  P3, Y3, Y4 \
	VFMADD213PS  P3, Y11, Y12 \
	VFMADD213PS  P4, Y3, Y4 \
	VFMADD213PS  P4, Y11, Y12 \
	VFMADD213PS  P5, Y3, Y4 \
	VFMADD213PS  P5, Y11, Y12 \
	VMULPS       Y3, Y4, Y4 \
	VMULPS       Y11, Y12, Y12 \
	VFMADD213PS  Y3, Y3, Y4 \
	VFMADD213PS  Y11, Y11, Y12 \
	VADDPS       ONE, Y4, Y4 \
	VADDPS       ONE, Y12, Y12 \
	VCVTPS2DQ    Y2, Y2 \
	VCVTPS2DQ    Y10, Y10 \
	VPADDD       BIAS, Y2, Y2 \
	VPADDD       BIAS, Y10, Y10 \
	VPSLLD       $23, Y2, Y2 \
	VPSLLD       $23, Y10, Y10 \
	VMULPS       Y2, Y4, Y5 \
	VMULPS       Y10, Y12, Y13 \
	VCMPPS       $1, EXPMIN, Y1, Y2 \
	VCMPPS       $1, EXPMIN, Y9, Y10 \
	VANDNPS      Y5, Y2, Y5 \
	VANDNPS      Y13, Y10, Y13 \
	VADDPS       Y15, Y5, Y6 \
	VADDPS       Y15, Y13, Y14 \
	VRCPPS       Y6, Y7 \
	VRCPPS       Y14, Y3 \
	VFNMADD213PS Y15, Y7, Y6 \
	VFNMADD213PS Y15, Y3, Y14 \
	VFMADD213PS  Y7, Y7, Y6 \
	VFMADD213PS  Y3, Y3, Y14 \
	VMULPS       Y6, Y5, Y7 \
	VMULPS       Y14, Y13, Y3 \
	VBLENDVPS    Y0, Y7, Y6, Y4 \
	VBLENDVPS    Y8, Y3, Y14, Y12

// GELUTANHARG sets u2 = 2*sqrt(2/pi)*(x + 0.044715 x^3).
#define GELUTANHARG(x, u2) \
	VMULPS      x, x, u2 \
	VMULPS      x, u2, u2 \
	VFMADD132PS GC, x, u2 \
	VMULPS      GK2, u2, u2

// PHI sets ph = Phi(x) = erfc(-x/sqrt2)/2 (halfErfc's steps on z =
// |x|/sqrt2, then q for x < 0 and 1-q otherwise). Needs ONE in Y15;
// clobbers Y2-Y5 and Y10-Y14.
#define PHI(x, ph) \
	VANDPS       ABS, x, Y10 \
	VMULPS       ISQ2, Y10, Y10 \
	VMOVAPS      Y10, Y11 \
	VFMADD132PS  HALF, Y15, Y11 \
	VDIVPS       Y11, Y15, Y11 \
	VMOVUPS      E0, Y12 \
	VFMADD213PS  E1, Y11, Y12 \
	VFMADD213PS  E2, Y11, Y12 \
	VFMADD213PS  E3, Y11, Y12 \
	VFMADD213PS  E4, Y11, Y12 \
	VFMADD213PS  E5, Y11, Y12 \
	VFMADD213PS  E6, Y11, Y12 \
	VFMADD213PS  E7, Y11, Y12 \
	VFMADD213PS  E8, Y11, Y12 \
	VFMADD213PS  E9, Y11, Y12 \
	VFNMADD231PS Y10, Y10, Y12 \
	EXPNP(Y12, Y5, Y2, Y3, Y4) \
	VCMPPS       $1, M84, Y12, Y2 \
	VANDNPS      Y5, Y2, Y5 \
	VMULPS       HALF, Y11, Y13 \
	VMULPS       Y5, Y13, Y13 \
	VSUBPS       Y13, Y15, Y14 \
	VBLENDVPS    x, Y13, Y14, ph

// Each function processes n values, n a positive multiple of 8.

// func sigmoidAVX2(dst, x *float32, n int)
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-24
	MOVQ    dst+0(FP), DI
	MOVQ    x+8(FP), SI
	MOVQ    n+16(FP), CX
	VMOVUPS ONE, Y15

	CMPQ    CX, $16
	JB      sigtail

sigloop2:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y8
	SIG2
	VMOVUPS Y4, (DI)
	VMOVUPS Y12, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     sigloop2
	TESTQ   CX, CX
	JZ      sigdone

sigtail:
	VMOVUPS (SI), Y0
	SIGPAIR(Y0, Y8, Y9)
	VMOVUPS Y8, (DI)

sigdone:
	VZEROUPPER
	RET

// func siluAVX2(dst, x *float32, n int)
TEXT ·siluAVX2(SB), NOSPLIT, $0-24
	MOVQ    dst+0(FP), DI
	MOVQ    x+8(FP), SI
	MOVQ    n+16(FP), CX
	VMOVUPS ONE, Y15

	CMPQ    CX, $16
	JB      silutail

siluloop2:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y8
	SIG2
	VMULPS  Y0, Y4, Y4
	VMULPS  Y8, Y12, Y12
	VMOVUPS Y4, (DI)
	VMOVUPS Y12, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     siluloop2
	TESTQ   CX, CX
	JZ      siludone

silutail:
	VMOVUPS (SI), Y0
	SIGPAIR(Y0, Y8, Y9)
	VMULPS  Y0, Y8, Y8
	VMOVUPS Y8, (DI)

siludone:
	VZEROUPPER
	RET

// func siluGradAVX2(dx, dy, x *float32, n int)
// dx = dy*s*(1 + x*(1-s)).
TEXT ·siluGradAVX2(SB), NOSPLIT, $0-32
	MOVQ    dx+0(FP), DI
	MOVQ    dy+8(FP), DX
	MOVQ    x+16(FP), SI
	MOVQ    n+24(FP), CX
	VMOVUPS ONE, Y15

silugloop:
	VMOVUPS     (SI), Y0
	SIGPAIR(Y0, Y8, Y9)
	VMULPS      (DX), Y8, Y10
	VFMADD213PS Y15, Y0, Y9
	VMULPS      Y9, Y10, Y10
	VMOVUPS     Y10, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DX
	ADDQ        $32, DI
	SUBQ        $8, CX
	JNZ         silugloop
	VZEROUPPER
	RET

// func geluTanhAVX2(dst, x *float32, n int)
// dst = x*sigmoid(2u).
TEXT ·geluTanhAVX2(SB), NOSPLIT, $0-24
	MOVQ    dst+0(FP), DI
	MOVQ    x+8(FP), SI
	MOVQ    n+16(FP), CX
	VMOVUPS ONE, Y15

gtloop:
	VMOVUPS (SI), Y0
	GELUTANHARG(Y0, Y11)
	SIGPAIR(Y11, Y8, Y9)
	VMULPS  Y0, Y8, Y8
	VMOVUPS Y8, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     gtloop
	VZEROUPPER
	RET

// func geluTanhGradAVX2(dx, dy, x *float32, n int)
// dx = dy*(s + 2w*s*(1-s)*sqrt(2/pi)*(1 + 3*0.044715 w^2)), s = sigmoid(2u),
// w = x clamped to [-10, 10].
TEXT ·geluTanhGradAVX2(SB), NOSPLIT, $0-32
	MOVQ    dx+0(FP), DI
	MOVQ    dy+8(FP), DX
	MOVQ    x+16(FP), SI
	MOVQ    n+24(FP), CX
	VMOVUPS ONE, Y15

gtgloop:
	VMOVUPS     (SI), Y0
	GELUTANHARG(Y0, Y11)
	SIGPAIR(Y11, Y8, Y9)
	VMAXPS      MTEN, Y0, Y12
	VMINPS      TEN, Y12, Y12
	VMULPS      Y12, Y12, Y13
	VFMADD132PS GC3, Y15, Y13
	VMULPS      Y12, Y8, Y14
	VMULPS      Y9, Y14, Y14
	VMULPS      GK2, Y14, Y14
	VFMADD213PS Y8, Y13, Y14
	VMULPS      (DX), Y14, Y14
	VMOVUPS     Y14, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DX
	ADDQ        $32, DI
	SUBQ        $8, CX
	JNZ         gtgloop
	VZEROUPPER
	RET

// func geluAVX2(dst, x *float32, n int)
// dst = x*Phi(x).
TEXT ·geluAVX2(SB), NOSPLIT, $0-24
	MOVQ    dst+0(FP), DI
	MOVQ    x+8(FP), SI
	MOVQ    n+16(FP), CX
	VMOVUPS ONE, Y15

geloop:
	VMOVUPS (SI), Y0
	PHI(Y0, Y6)
	VMULPS  Y0, Y6, Y6
	VMOVUPS Y6, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     geloop
	VZEROUPPER
	RET

// func geluGradAVX2(dx, dy, x *float32, n int)
// dx = dy*(Phi(x) + x*exp(-x^2/2)/sqrt(2pi)).
TEXT ·geluGradAVX2(SB), NOSPLIT, $0-32
	MOVQ    dx+0(FP), DI
	MOVQ    dy+8(FP), DX
	MOVQ    x+16(FP), SI
	MOVQ    n+24(FP), CX
	VMOVUPS ONE, Y15

gegloop:
	VMOVUPS     (SI), Y0
	PHI(Y0, Y6)
	VMULPS      Y0, Y0, Y7
	VMULPS      MHALF, Y7, Y7
	EXPNP(Y7, Y8, Y2, Y3, Y4)
	VMULPS      ISQ2PI, Y8, Y8
	VFMADD213PS Y6, Y0, Y8
	VMULPS      (DX), Y8, Y8
	VMOVUPS     Y8, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DX
	ADDQ        $32, DI
	SUBQ        $8, CX
	JNZ         gegloop
	VZEROUPPER
	RET

// func hardSwishAVX2(dst, x *float32, n int)
// dst = x*min(max(x+3, 0), 6)/6, the operations of the Go loop in its
// order (so the results are the same bits); max and min take the NaN.
TEXT ·hardSwishAVX2(SB), NOSPLIT, $0-24
	MOVQ    dst+0(FP), DI
	MOVQ    x+8(FP), SI
	MOVQ    n+16(FP), CX
	VXORPS  Y14, Y14, Y14
	VMOVUPS SIX, Y13

hsloop:
	VMOVUPS (SI), Y0
	VADDPS  THREE, Y0, Y1
	VMAXPS  Y1, Y14, Y1
	VMINPS  Y1, Y13, Y1
	VMULPS  Y1, Y0, Y1
	VDIVPS  Y13, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     hsloop
	VZEROUPPER
	RET

// func hardSwishGradAVX2(dx, dy, x *float32, n int)
// dx = dy*d, d = x*(1/3) + 0.5, 0 where x < -3, 1 where x >= 3.
TEXT ·hardSwishGradAVX2(SB), NOSPLIT, $0-32
	MOVQ    dx+0(FP), DI
	MOVQ    dy+8(FP), DX
	MOVQ    x+16(FP), SI
	MOVQ    n+24(FP), CX
	VMOVUPS ONE, Y15

hsgloop:
	VMOVUPS   (SI), Y0
	VMULPS    THIRD, Y0, Y1
	VADDPS    HALF, Y1, Y1
	VCMPPS    $1, MTHREE, Y0, Y2
	VANDNPS   Y1, Y2, Y1
	VCMPPS    $13, THREE, Y0, Y3
	VBLENDVPS Y3, Y15, Y1, Y1
	VMULPS    (DX), Y1, Y1
	VMOVUPS   Y1, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DX
	ADDQ      $32, DI
	SUBQ      $8, CX
	JNZ       hsgloop
	VZEROUPPER
	RET

// func clipAVX2(dst, x *float32, n int, lo, hi float32)
// dst = min(max(x, lo), hi), NaN kept.
TEXT ·clipAVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS lo+24(FP), Y14
	VBROADCASTSS hi+28(FP), Y13

cliploop:
	VMOVUPS (SI), Y0
	VMAXPS  Y0, Y14, Y0
	VMINPS  Y0, Y13, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     cliploop
	VZEROUPPER
	RET

// func clipGradAVX2(dx, dy, y *float32, n int, lo, hi float32)
// dx = dy where y-lo and hi-y are both > 0 as int32 bits (ClipGrad's rule).
TEXT ·clipGradAVX2(SB), NOSPLIT, $0-40
	MOVQ         dx+0(FP), DI
	MOVQ         dy+8(FP), DX
	MOVQ         y+16(FP), SI
	MOVQ         n+24(FP), CX
	VBROADCASTSS lo+32(FP), Y14
	VBROADCASTSS hi+36(FP), Y13
	VPXOR        Y12, Y12, Y12

clipgloop:
	VMOVUPS  (SI), Y0
	VSUBPS   Y14, Y0, Y1
	VSUBPS   Y0, Y13, Y2
	VPCMPGTD Y12, Y1, Y1
	VPCMPGTD Y12, Y2, Y2
	VPAND    Y2, Y1, Y1
	VPAND    (DX), Y1, Y1
	VMOVDQU  Y1, (DI)
	ADDQ     $32, SI
	ADDQ     $32, DX
	ADDQ     $32, DI
	SUBQ     $8, CX
	JNZ      clipgloop
	VZEROUPPER
	RET
