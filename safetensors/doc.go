// Package safetensors reads and writes the safetensors format: an 8-byte
// little-endian header length, a JSON header mapping tensor names to
// {dtype, shape, data_offsets} (plus an optional "__metadata__" map of
// strings), then the raw little-endian tensor bytes. dlcv stores models in
// it so that Python's safetensors can read the weights.
//
// Only F32 tensors are written; F32, F16 and BF16 are read (converted to
// float32). The reader validates every offset and shape against the file and
// returns an error naming the tensor or field at fault.
package safetensors
