// Package vision is an HTTP image-annotation service in the shape of
// Google Cloud Vision's images:annotate API, backed by dlcv's own models:
//
//   - LABEL_DETECTION: an ImageNet classifier (a TFLite MobileNet);
//   - IMAGE_PROPERTIES: dominant colours by seeded k-means;
//   - FACE_DETECTION: Haar cascade faces, with joyLikelihood from a smile
//     classifier when one is configured;
//   - CUSTOM_MODEL: any dlcv model file, named at start-up.
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
//	s, err := vision.New(vision.Config{Labeler: &vision.Labeler{Model: m, Labels: labels}})
//	err = s.ListenAndServe(ctx, "127.0.0.1:8080") // returns after ctx ends and in-flight requests finish
package vision
