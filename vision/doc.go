// Package vision is an HTTP image-annotation service in the shape of
// Google Cloud Vision's images:annotate API, backed by dlcv's own models.
// The features are computed by package annotate; this package is the HTTP
// layer around them:
//
//   - OBJECT_LOCALIZATION: CenterNet (COCO objects, normalised boxes);
//   - LABEL_DETECTION: an ImageNet classifier (a TFLite MobileNet), labels
//     under Config.MinScore dropped;
//   - WEB_DETECTION: the most similar images of a local index;
//   - IMAGE_PROPERTIES: dominant colours by seeded k-means;
//   - SAFE_SEARCH_DETECTION: the NSFW MobileNetV2's likelihoods;
//   - FACE_DETECTION: BlazeFace boxes, landmarks and emotion likelihoods,
//     or Haar cascade faces with joy from a smile classifier;
//   - TEXT_DETECTION: PP-OCRv4 detection and recognition;
//   - CUSTOM_MODEL: any dlcv model file, named at start-up.
//
// A feature whose model is not loaded fails each image with
// FAILED_PRECONDITION, naming the model and how to get it; a well-formed
// request is answered 200 with per-image errors, as Cloud Vision does.
//
// Requests are JSON ({"requests":[{"image":{"content":BASE64},
// "features":[{"type":"LABEL_DETECTION"}]}]}) or multipart/form-data for
// curl users. The server bounds everything a client controls: body size
// and rate (bodies are read, under a deadline and a minimum rate, before a
// work slot is taken), decoded pixels and bytes (checked from the header,
// before decoding; images are decoded to 8 bits a channel), the memory of
// the requests in flight (a byte budget, 429 beyond), images per request,
// concurrent work (a fixed number of slots and a bounded queue, 503
// beyond), and time (a request deadline tied to the client's connection).
// Errors follow google.rpc's HTTP mapping. An optional API key guards the
// API. It also serves a drag-and-drop page embedded in the binary (GET /),
// a health check (GET /healthz) and Prometheus metrics (GET /metrics).
//
// Usage:
//
//	l, err := annotate.NewLabeler(m, labels, "labels.txt", nil)
//	s, err := vision.New(vision.Config{Labeler: l})
//	err = s.ListenAndServe(ctx, "127.0.0.1:8080") // returns after ctx ends and in-flight requests finish
package vision
