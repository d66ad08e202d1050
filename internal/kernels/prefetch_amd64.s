//go:build !purego

#include "textflag.h"

// func prefetchLines(p *float32, lines int)
// PREFETCHT0 at p and every 64 bytes after it, lines times (lines >= 1).
TEXT ·prefetchLines(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), SI
	MOVQ lines+8(FP), CX
loop:
	PREFETCHT0 (SI)
	ADDQ $64, SI
	DECQ CX
	JNZ  loop
	RET
