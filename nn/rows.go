package nn

import "github.com/dlcv-go/dlcv/internal/kernels"

// Row helpers shared by the layers with a bias (Dense, the convolutions).

// sumBlock is the scratch sumColumns needs for rows of f values: a block
// of whole rows that is a multiple of 8 values (one AVX2 vector) and at
// least 256 values long.
func sumBlock(f int) int {
	blk := f
	for blk%8 != 0 {
		blk += f
	}
	for blk < 256 {
		blk *= 2
	}
	return blk
}

// sumColumns adds the column sums of m (rows of len(dst) values) to dst:
// dst[j] += sum_i m[i*len(dst)+j], the bias gradient. It adds whole blocks
// of rows into scratch (sumBlock(len(dst)) values) with the vectorised
// kernels.Add, then folds the block's rows together.
func sumColumns(dst, m, scratch []float32) {
	f := len(dst)
	blk := sumBlock(f)
	acc := scratch[:blk]
	clear(acc)
	full := len(m) / blk * blk
	for i := 0; i < full; i += blk {
		kernels.Add(acc, m[i:i+blk])
	}
	for r := 0; r < blk; r += f {
		kernels.Add(dst, acc[r:r+f])
	}
	for r := full; r < len(m); r += f { // rows after the last whole block
		kernels.Add(dst, m[r:r+f])
	}
}

// broadcastRows copies row into every row of m (len(m) a multiple of
// len(row)), doubling the filled prefix each time: a few long copies
// instead of one short copy per row.
func broadcastRows(m, row []float32) {
	if len(m) == 0 {
		return
	}
	done := copy(m, row)
	for done < len(m) {
		done += copy(m[done:], m[:done])
	}
}
