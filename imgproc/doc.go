// Package imgproc is the image-convolution workshop: a bank of classic
// kernels (blur, sharpen, Laplacian, Sobel, emboss, Gaussian, custom),
// 2-D filtering of float32 planes with selectable border handling
// (reflect-101, replicate, zero) and correlation or true convolution,
// mapping of filtered values back to 8-bit pixels (clip or rescale),
// CNN-style matrix convolution with stride and padding, image loading,
// pixel dumps and labelled contact sheets.
//
// Filtering follows OpenCV's cv2.filter2D: correlation (no kernel flip),
// anchor at the kernel centre (kw/2, kh/2), BORDER_REFLECT_101 by default.
// Rank-1 kernels (outer(col, row)) run as two 1-D passes, O(kw+kh) per
// pixel, and constant (box) kernels use running sums, O(1) per pixel.
// Rows are split over cores with kernels.Parallel (at most
// kernels.Threads()), and the multi-tap row pass is kernels.AxpyN
// (AVX2+FMA assembly with a Go twin, in internal/kernels).
//
// Grayscale conversion uses ITU-R BT.601 weights 0.299 R + 0.587 G +
// 0.114 B with the same fixed-point rounding as OpenCV's
// cv2.cvtColor(..., COLOR_RGB2GRAY) on 8-bit images, so results can be
// compared with OpenCV pixel for pixel.
package imgproc
