// Package optim holds the optimizers that update a model's parameters from
// their gradients (SGD with momentum and Nesterov, Adam, RMSprop) and
// learning-rate schedules.
//
// Update rules and defaults follow Keras; where PyTorch writes the same
// method differently the difference is noted on the type (see also
// docs/training-components.md). An optimizer keeps its per-parameter slots
// (velocity, moments) keyed by *nn.Param, allocated on the first Step, so
// later Steps allocate nothing. Step reads Param.Grad and does not clear
// it; the caller zeroes gradients (nn.ZeroGrads) before each backward pass.
// Params with Trainable false (batch-norm statistics) are skipped.
//
// State and LoadState export and restore the slots and the iteration count
// so that training resumes exactly from a checkpoint.
package optim
