//go:build ignore

// sigmoid_asmgen writes sigmoid_amd64.s, the AVX-512 forms of Sigmoid and
// SiLU (activation.go; the AVX2 ones are hand-written in
// activation_amd64.s). Run with `go generate` in this directory.
//
// They compute s = 1/(1+exp(-x)) directly, where the AVX2 kernels' SIGPAIR
// takes exp(-|x|) and selects by the sign (the gradients need 1-s without
// cancellation; s alone does not): x is clamped to [-86, 86] (VMAXPS and
// VMINPS with x as the operand they return for a NaN), n = round(-x
// log2 e), r = -x - n ln2 in two parts, exp(-x) = 2^n (1 + r + r^2 P(r))
// with expNonPos' polynomial and VSCALEFPS, 1/(1+e) by VRCP14PS and a
// Newton step, and s is zeroed where x < -86 as the Go loop flushes it
// (so SiLU(-Inf) is NaN there too). Four vectors run with their steps
// interleaved (five registers each; Z28 = -86, Z29 = 86): one after the
// other, the steps' latencies are not hidden. Results differ from the Go
// loop by a few ulp.
//
// Go assembly operand order is reversed from Intel's: VFMADD213PS a, b, c
// computes c = b*c + a; VFNMSUB231PS a, b, c computes c = -(b*a) - c.
package main

import (
	"fmt"
	"math"
	"os"
	"strings"
)

var out strings.Builder

func p(format string, args ...any) { fmt.Fprintf(&out, "\t"+format+"\n", args...) }

// consts are the table's values, one float each, broadcast by name.
var consts = []struct {
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

func c(name string) string {
	for i, k := range consts {
		if k.name == name {
			return fmt.Sprintf("sigk<>+%d(SB)", 4*i)
		}
	}
	panic(name)
}

// nv is how many vectors the main loop interleaves.
const nv = 4

// block computes the sigmoid (silu: times x) of n vectors (1 or nv) from
// SI into DI; vector j has registers Z(5j)..Z(5j+4) (x, a, n, s, q) and
// mask K(j+1).
func block(silu bool, n int) {
	reg := func(j, k int) string { return fmt.Sprintf("Z%d", 5*j+k) }
	each := func(f func(j int, x, a, nn, s, q string)) {
		for j := range n {
			f(j, reg(j, 0), reg(j, 1), reg(j, 2), reg(j, 3), reg(j, 4))
		}
	}
	each(func(j int, x, a, nn, s, q string) { p("VMOVUPS %d(SI), %s", 64*j, x) })
	each(func(j int, x, a, nn, s, q string) { p("VMAXPS %s, Z28, %s", x, a) })
	each(func(j int, x, a, nn, s, q string) { p("VMINPS %s, Z29, %s", a, a) })
	each(func(j int, x, a, nn, s, q string) { p("VCMPPS $1, Z28, %s, K%d", x, j+1) })
	each(func(j int, x, a, nn, s, q string) { p("VMULPS.BCST %s, %s, %s", c("NLOG2E"), a, nn) })
	each(func(j int, x, a, nn, s, q string) { p("VRNDSCALEPS $0, %s, %s", nn, nn) })
	each(func(j int, x, a, nn, s, q string) { p("VFNMSUB231PS.BCST %s, %s, %s", c("C1"), nn, a) })
	each(func(j int, x, a, nn, s, q string) { p("VFNMADD231PS.BCST %s, %s, %s", c("C2"), nn, a) })
	each(func(j int, x, a, nn, s, q string) { p("VBROADCASTSS %s, %s", c("P0"), s) })
	for _, pc := range []string{"P1", "P2", "P3", "P4", "P5"} {
		each(func(j int, x, a, nn, s, q string) { p("VFMADD213PS.BCST %s, %s, %s", c(pc), a, s) })
	}
	each(func(j int, x, a, nn, s, q string) { p("VMULPS %s, %s, %s", a, s, s) })
	each(func(j int, x, a, nn, s, q string) { p("VFMADD213PS %s, %s, %s", a, a, s) })
	each(func(j int, x, a, nn, s, q string) { p("VADDPS.BCST %s, %s, %s", c("ONE"), s, s) })
	each(func(j int, x, a, nn, s, q string) { p("VSCALEFPS %s, %s, %s", nn, s, s) })
	each(func(j int, x, a, nn, s, q string) { p("VADDPS.BCST %s, %s, %s", c("ONE"), s, s) })
	each(func(j int, x, a, nn, s, q string) { p("VRCP14PS %s, %s", s, q) })
	each(func(j int, x, a, nn, s, q string) { p("VFNMADD213PS.BCST %s, %s, %s", c("ONE"), q, s) })
	each(func(j int, x, a, nn, s, q string) { p("VFMADD213PS %s, %s, %s", q, q, s) })
	each(func(j int, x, a, nn, s, q string) { p("VPXORD %s, %s, K%d, %s", s, s, j+1, s) })
	if silu {
		each(func(j int, x, a, nn, s, q string) { p("VMULPS %s, %s, %s", x, s, s) })
	}
	each(func(j int, x, a, nn, s, q string) { p("VMOVUPS %s, %d(DI)", s, 64*j) })
}

// fn writes one kernel: nv vectors a step, then single vectors; n is a
// multiple of 16.
func fn(name string, silu bool, lbl string) {
	fmt.Fprintf(&out, "// func %s(dst, x *float32, n int)\n", name)
	fmt.Fprintf(&out, "TEXT ·%s(SB), NOSPLIT, $0-24\n", name)
	p("MOVQ dst+0(FP), DI")
	p("MOVQ x+8(FP), SI")
	p("MOVQ n+16(FP), CX")
	p("VBROADCASTSS %s, Z28", c("EXPMIN"))
	p("VBROADCASTSS %s, Z29", c("P86"))
	p("CMPQ CX, $%d", 16*nv)
	p("JB %sone", lbl)
	fmt.Fprintf(&out, "%sloop:\n", lbl)
	block(silu, nv)
	p("ADDQ $%d, SI", 64*nv)
	p("ADDQ $%d, DI", 64*nv)
	p("SUBQ $%d, CX", 16*nv)
	p("CMPQ CX, $%d", 16*nv)
	p("JAE %sloop", lbl)
	fmt.Fprintf(&out, "%sone:\n", lbl)
	p("CMPQ CX, $16")
	p("JB %sdone", lbl)
	block(silu, 1)
	p("ADDQ $64, SI")
	p("ADDQ $64, DI")
	p("SUBQ $16, CX")
	p("JMP %sone", lbl)
	fmt.Fprintf(&out, "%sdone:\n", lbl)
	p("VZEROUPPER")
	p("RET")
	out.WriteString("\n")
}

func main() {
	out.WriteString("// Code generated by sigmoid_asmgen.go; DO NOT EDIT.\n\n//go:build !purego\n\n#include \"textflag.h\"\n\n")
	for i := 0; i < len(consts); i += 2 {
		lo, hi := math.Float32bits(consts[i].v), uint32(0)
		if i+1 < len(consts) {
			hi = math.Float32bits(consts[i+1].v)
		}
		fmt.Fprintf(&out, "DATA sigk<>+%d(SB)/8, $0x%08x%08x\n", 4*i, hi, lo)
	}
	fmt.Fprintf(&out, "GLOBL sigk<>(SB), RODATA|NOPTR, $%d\n\n", 4*(len(consts)+len(consts)%2))
	fn("sigmoidAVX512", false, "zsig")
	fn("siluAVX512", true, "zsilu")
	if err := os.WriteFile("sigmoid_amd64.s", []byte(out.String()), 0o644); err != nil {
		panic(err)
	}
}
