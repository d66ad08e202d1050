// Package visualize shows what a trained CNN learned: the kernels of a
// convolution layer as an image grid (Filters) and the activation maps a
// layer produces for one input image (Activations).
//
// Layers are chosen as `dlcv summary` lists them: by 0-based index or by
// name (conv2d, conv2d_1, re_lu, ...); ResolveLayer turns either into an
// index and, by default, picks the first Conv2D.
//
// Everything is drawn in grayscale (RGB for the colour kernels of a
// first layer), enlarged with nearest-neighbour sampling so that every
// weight or activation stays a crisp square, and mapped to 0..255 by
// min-max normalisation: per filter or per channel by default, so each
// tile uses the full range, or across the whole layer ("global"), so
// tiles can be compared with each other.
package visualize
