// Package annotate computes Cloud Vision's image annotations with dlcv's
// own engine: one file per feature, used alike by the CLI (cmd/dlcv), the
// HTTP service (vision) and Go callers.
//
//   - OBJECT_LOCALIZATION (objects.go): CenterNet on MobileNetV3, COCO 80
//     classes, a TF.js graph model whose decoding runs in the engine, then
//     non-maximum suppression;
//   - LABEL_DETECTION (labels.go): an ImageNet classifier (TFLite), with
//     CheckLabels to catch a label file that does not fit the model;
//   - IMAGE_PROPERTIES (properties.go): dominant colours by seeded k-means;
//   - SAFE_SEARCH_DETECTION (safesearch.go): the NSFW MobileNetV2, its five
//     classes mapped onto Cloud Vision's likelihoods;
//   - FACE_DETECTION (faces.go): BlazeFace boxes and landmarks or the Haar
//     cascade, expressions from the FER-2013 emotion model or joy from a
//     smile classifier;
//   - WEB_DETECTION (web.go): a local index of backbone features and an
//     exact cosine search, in place of the web;
//   - TEXT_DETECTION (text.go): PP-OCRv4 detection and CTC recognition
//     (ONNX).
//
// The JSON types (types.go) are Cloud Vision's v1 images:annotate shapes.
// An Annotator holds whichever models are loaded and computes a request's
// features for one image; a feature whose model is missing is an error
// naming the model and the command that downloads it.
//
// Usage:
//
//	d, err := annotate.LoadObjectDetector("centernet.json")
//	objs, err := d.Detect(ctx, img, 10, 0) // name, score, normalised box
package annotate
