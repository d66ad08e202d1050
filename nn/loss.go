package nn

import "github.com/dlcv-go/dlcv/tensor"

// Loss measures how far predictions are from targets.
type Loss interface {
	// Name is the loss's name as recorded in a model file, e.g.
	// "categorical_crossentropy".
	Name() string
	// Forward returns the mean loss over the batch. pred is (N, ...) and
	// target has the same shape (one-hot rows for classification).
	Forward(pred, target *tensor.Tensor) (float64, error)
	// Backward returns dL/dpred for the last Forward (a buffer the loss
	// owns, valid until the next call).
	Backward() (*tensor.Tensor, error)
}

// LogitsLoss is a loss that can also take the logits before a final
// Softmax layer. Sequential.TrainStep uses it to fuse softmax and
// cross-entropy, which is numerically stable (log-sum-exp) and cheaper:
// dL/dlogits = (softmax(logits) - target) / N.
type LogitsLoss interface {
	Loss
	// ForwardLogits is Forward on softmax(logits); Backward then returns
	// dL/dlogits.
	ForwardLogits(logits, target *tensor.Tensor) (float64, error)
}
