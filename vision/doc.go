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
// curl users. The server bounds everything a client controls: body size,
// decoded pixels (checked from the header, before decoding), images per
// request, concurrent work (a fixed number of slots and a bounded queue,
// 503 beyond), and time (server timeouts). It also serves a drag-and-drop
// page embedded in the binary (GET /), a health check (GET /healthz) and
// Prometheus metrics (GET /metrics).
//
// Usage:
//
//	s, err := vision.New(vision.Config{Labels: &vision.Labeler{Model: m, Labels: labels}})
//	err = s.ListenAndServe(ctx, "127.0.0.1:8080") // returns after ctx ends and in-flight requests finish
package vision
