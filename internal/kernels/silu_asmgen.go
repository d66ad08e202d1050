//go:build ignore

// silu_asmgen holds the steps of the AVX-512 sigmoid that
// sigmoid_asmgen.go (Sigmoid, SiLU) and depthwise_asmgen.go (SiLU in the
// depthwise kernel's registers) both write: `go run` each with this file
// (see their go:generate lines), so the two give the same bits.
//
// s = 1/(1+exp(-x)): x clamped to [-86, 86] (VMAXPS and VMINPS with x as
// the operand they return for a NaN), n = round(-x log2 e), r = -x - n
// ln2 in two parts, exp(-x) = 2^n (1 + r + r^2 P(r)) with expNonPos'
// polynomial and VSCALEFPS, 1/(1+e) by VRCP14PS and a Newton step, and s
// zeroed where x < -86 as the Go loop flushes it.
package main

import (
	"fmt"
	"math"
)

// sigConsts are the steps' constants, one float each in a table of the
// writer's own (sigTable), broadcast by name.
var sigConsts = []struct {
	name string
	v    float32
}{
	{"EXPMIN", -86},
	{"P86", 86},
	{"NLOG2E", float32(-math.Log2E)},
	{"C1", 0.693359375},     // ln 2, high part (expC1)
	{"C2", -2.12194440e-4},  // ln 2, low part (expC2)
	{"P0", 1.9875691500e-4}, // expNonPos' polynomial
	{"P1", 1.3981999507e-3},
	{"P2", 8.3334519073e-3},
	{"P3", 4.1665795894e-2},
	{"P4", 1.6666665459e-1},
	{"P5", 5.0000001201e-1},
	{"ONE", 1},
}

// sigConst is the address of constant name in table sym.
func sigConst(sym, name string) string {
	for i, k := range sigConsts {
		if k.name == name {
			return fmt.Sprintf("%s<>+%d(SB)", sym, 4*i)
		}
	}
	panic(name)
}

// sigTable writes table sym's DATA and GLOBL lines.
func sigTable(sym string) {
	for i := 0; i < len(sigConsts); i += 2 {
		lo, hi := math.Float32bits(sigConsts[i].v), uint32(0)
		if i+1 < len(sigConsts) {
			hi = math.Float32bits(sigConsts[i+1].v)
		}
		fmt.Fprintf(&out, "DATA %s<>+%d(SB)/8, $0x%08x%08x\n", sym, 4*i, hi, lo)
	}
	fmt.Fprintf(&out, "GLOBL %s<>(SB), RODATA|NOPTR, $%d\n", sym, 4*(len(sigConsts)+len(sigConsts)%2))
}

// sigClamps loads the clamps the steps need: Z28 = -86, Z29 = 86.
func sigClamps(sym string) {
	p("VBROADCASTSS %s, Z28", sigConst(sym, "EXPMIN"))
	p("VBROADCASTSS %s, Z29", sigConst(sym, "P86"))
}

// sigVec names one vector's registers: x (kept), a and n (scratch), s
// (the sigmoid), q (the reciprocal), and the mask register K(k).
type sigVec struct{ x, a, n, s, q, k int }

// sigmoidSteps sets s = sigmoid(x) for every vector of vs, the steps
// interleaved across them: one vector after another, the latencies are
// not hidden.
func sigmoidSteps(sym string, vs []sigVec) {
	c := func(name string) string { return sigConst(sym, name) }
	each := func(f func(v sigVec)) {
		for _, v := range vs {
			f(v)
		}
	}
	each(func(v sigVec) { p("VMAXPS Z%d, Z28, Z%d", v.x, v.a) })
	each(func(v sigVec) { p("VMINPS Z%d, Z29, Z%d", v.a, v.a) })
	each(func(v sigVec) { p("VCMPPS $1, Z28, Z%d, K%d", v.x, v.k) })
	each(func(v sigVec) { p("VMULPS.BCST %s, Z%d, Z%d", c("NLOG2E"), v.a, v.n) })
	each(func(v sigVec) { p("VRNDSCALEPS $0, Z%d, Z%d", v.n, v.n) })
	each(func(v sigVec) { p("VFNMSUB231PS.BCST %s, Z%d, Z%d", c("C1"), v.n, v.a) })
	each(func(v sigVec) { p("VFNMADD231PS.BCST %s, Z%d, Z%d", c("C2"), v.n, v.a) })
	each(func(v sigVec) { p("VBROADCASTSS %s, Z%d", c("P0"), v.s) })
	for _, pc := range []string{"P1", "P2", "P3", "P4", "P5"} {
		each(func(v sigVec) { p("VFMADD213PS.BCST %s, Z%d, Z%d", c(pc), v.a, v.s) })
	}
	each(func(v sigVec) { p("VMULPS Z%d, Z%d, Z%d", v.a, v.s, v.s) })
	each(func(v sigVec) { p("VFMADD213PS Z%d, Z%d, Z%d", v.a, v.a, v.s) })
	each(func(v sigVec) { p("VADDPS.BCST %s, Z%d, Z%d", c("ONE"), v.s, v.s) })
	each(func(v sigVec) { p("VSCALEFPS Z%d, Z%d, Z%d", v.n, v.s, v.s) })
	each(func(v sigVec) { p("VADDPS.BCST %s, Z%d, Z%d", c("ONE"), v.s, v.s) })
	each(func(v sigVec) { p("VRCP14PS Z%d, Z%d", v.s, v.q) })
	each(func(v sigVec) { p("VFNMADD213PS.BCST %s, Z%d, Z%d", c("ONE"), v.q, v.s) })
	each(func(v sigVec) { p("VFMADD213PS Z%d, Z%d, Z%d", v.q, v.q, v.s) })
	each(func(v sigVec) { p("VPXORD Z%d, Z%d, K%d, Z%d", v.s, v.s, v.k, v.s) })
}
