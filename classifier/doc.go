// Package classifier is a trained image classifier as a user handles it:
// the network, its class names and the preprocessing that turns a photo
// into its input, saved together in one model file. `dlcv predict`,
// `dlcv evaluate`, the smile detector and the vision service load models
// through it. Open reads any model file dlcv imports (ONNX, TF.js,
// TFLite, dlcv) as a classifier, with its preprocessing from the file or
// from OpenOptions.
package classifier
