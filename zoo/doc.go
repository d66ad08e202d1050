// Package zoo holds dlcv's named architectures: the classic MLP, ShallowNet,
// LeNet and MiniVGGNet from the "Deep Learning for Computer Vision" course,
// built from nn layers for a given input shape and number of classes.
package zoo
