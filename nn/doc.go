// Package nn holds dlcv's neural-network layers, losses, weight initialisers
// and the Sequential model. Each layer is a plain struct with explicit weight
// tensors and a Forward and a Backward that read like the chain rule:
// Forward caches what Backward needs; Backward takes dL/dy, accumulates
// dL/dW into the layer's Params and returns dL/dx.
//
// Tensors are NHWC (batch, height, width, channels) for images and
// (batch, features) for vectors. Outputs and gradients returned by a layer
// are buffers the layer owns and reuses: they stay valid until the next call
// of the same method, so a steady-state training step allocates nothing.
// Copy them (Tensor.Clone) to keep them longer.
package nn
