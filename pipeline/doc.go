// Package pipeline runs the classification pipeline end to end: load a
// dataset by name or folder, split it, build a zoo architecture, train it,
// evaluate it and write the model, history, report and plots. The dlcv
// command's train and evaluate sub-commands are thin wrappers over it.
package pipeline
