package vision

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // decoders for annotate requests
	_ "image/jpeg"
	_ "image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// job is one image request after decoding: the image bytes and the
// features to compute, or an error that belongs in its response.
type job struct {
	data     []byte
	features []Feature
	err      error
}

// decodeJSON parses a JSON annotate request. Errors in the request's
// structure (bad JSON, unknown features, bad base64, too many images) fail
// the whole request, as Cloud Vision does; an image file that cannot be
// read fails only its own response.
func (s *Server) decodeJSON(body []byte) ([]job, error) {
	var req BatchRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return nil, invalidf("request body is not a valid annotate request (JSON %s): %v", `{"requests":[{"image":{"content":"BASE64"},"features":[{"type":"LABEL_DETECTION"}]}]}`, err)
	}
	if dec.More() {
		return nil, invalidf("request body has data after the JSON object")
	}
	if len(req.Requests) == 0 {
		return nil, invalidf("no requests: the body needs \"requests\": [ {\"image\": ..., \"features\": [...]} ]")
	}
	if n := len(req.Requests); n > s.limits.MaxImages {
		return nil, invalidf("%d images in one request, the limit is %d (--max-images)", n, s.limits.MaxImages)
	}
	jobs := make([]job, len(req.Requests))
	for i, r := range req.Requests {
		fs, err := s.checkFeatures(r.Features, fmt.Sprintf("requests[%d].features", i))
		if err != nil {
			return nil, err
		}
		jobs[i].features = fs
		img := r.Image
		hasURI := img.Source != nil && (img.Source.ImageURI != "" || img.Source.GCSImageURI != "")
		switch {
		case img.Content != "" && hasURI:
			return nil, invalidf("requests[%d].image has both content and source: give one", i)
		case img.Content != "":
			data, err := decodeBase64(img.Content)
			if err != nil {
				return nil, invalidf("requests[%d].image.content is not valid base64: %v", i, err)
			}
			jobs[i].data = data
		case hasURI:
			uri := img.Source.ImageURI
			if uri == "" {
				uri = img.Source.GCSImageURI
			}
			jobs[i].data, jobs[i].err = s.readURI(uri)
		default:
			return nil, invalidf("requests[%d].image is empty: set image.content (base64 bytes) or image.source.imageUri", i)
		}
	}
	return jobs, nil
}

// decodeBase64 accepts standard and URL-safe base64, padded or not, with
// line breaks (as `base64` wraps its output).
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	enc := base64.StdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}
	if !strings.HasSuffix(s, "=") {
		enc = enc.WithPadding(base64.NoPadding)
	}
	return enc.DecodeString(s)
}

// checkFeatures validates features (where names the field in errors) and
// fills in defaults.
func (s *Server) checkFeatures(fs []Feature, where string) ([]Feature, error) {
	if len(fs) == 0 {
		return nil, invalidf("%s is empty: ask for at least one of %s", where, strings.Join(FeatureTypes, ", "))
	}
	if len(fs) > 2*len(FeatureTypes)+len(s.custom) {
		return nil, invalidf("%s has %d features, more than there are kinds", where, len(fs))
	}
	out := make([]Feature, len(fs))
	for i, f := range fs {
		switch f.Type {
		case LabelDetection:
			if s.labeler == nil {
				return nil, invalidf("%s[%d]: LABEL_DETECTION is not available: the server runs without an image classifier (--model)", where, i)
			}
		case FaceDetection:
			if s.cascade == nil {
				return nil, invalidf("%s[%d]: FACE_DETECTION is not available: the server has no Haar cascade (--cascade)", where, i)
			}
		case ImageProperties:
		case CustomModel:
			if f.Model == "" {
				return nil, invalidf("%s[%d]: CUSTOM_MODEL needs \"model\": one of %s", where, i, s.customNames())
			}
			if s.custom[f.Model] == nil {
				return nil, invalidf("%s[%d]: unknown custom model %q (this server has: %s)", where, i, f.Model, s.customNames())
			}
		case "":
			return nil, invalidf("%s[%d] has no type: want one of %s", where, i, strings.Join(FeatureTypes, ", "))
		default:
			return nil, invalidf("%s[%d]: unknown feature type %q: want one of %s", where, i, f.Type, strings.Join(FeatureTypes, ", "))
		}
		if f.MaxResults < 0 {
			return nil, invalidf("%s[%d].maxResults is %d: want 0 (default %d) or more", where, i, f.MaxResults, defaultMaxResults)
		}
		if f.MaxResults == 0 {
			f.MaxResults = defaultMaxResults
		}
		f.MaxResults = min(f.MaxResults, maxMaxResults)
		out[i] = f
	}
	return out, nil
}

const (
	defaultMaxResults = 10
	maxMaxResults     = 1000
)

func (s *Server) customNames() string {
	if len(s.custom) == 0 {
		return "none (start the server with --custom NAME=MODELFILE)"
	}
	names := make([]string, 0, len(s.custom))
	for n := range s.custom {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// readURI reads a local image named by image.source.imageUri: a path
// (or file:// URI) inside the allowed directory. Remote URIs are refused:
// the server never makes outbound requests.
func (s *Server) readURI(uri string) ([]byte, error) {
	lower := strings.ToLower(uri)
	for _, p := range []string{"http://", "https://", "gs://", "ftp://", "data:"} {
		if strings.HasPrefix(lower, p) {
			return nil, invalidf("image.source.imageUri %q: remote URIs are not fetched; send the bytes in image.content", uri)
		}
	}
	if s.root == nil {
		return nil, deniedf("image.source.imageUri %q: local files are disabled; start the server with --allow-dir DIR to allow files under DIR", uri)
	}
	path := strings.TrimPrefix(uri, "file://")
	if i := strings.Index(path, "://"); i >= 0 {
		return nil, invalidf("image.source.imageUri %q: unsupported scheme %q", uri, path[:i])
	}
	rel := path
	if filepath.IsAbs(path) {
		r, err := filepath.Rel(s.allowDir, filepath.Clean(path))
		if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			return nil, deniedf("image.source.imageUri %q is outside the allowed directory", uri)
		}
		rel = r
	}
	// os.Root refuses any path (.., symlinks) that leaves the directory.
	f, err := s.root.Open(filepath.Clean(rel))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, notFoundf("image.source.imageUri %q: no such file in the allowed directory", uri)
		}
		return nil, deniedf("image.source.imageUri %q: cannot open it inside the allowed directory: %v", uri, stripRoot(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, deniedf("image.source.imageUri %q: %v", uri, stripRoot(err))
	}
	if !st.Mode().IsRegular() {
		return nil, invalidf("image.source.imageUri %q is not a regular file", uri)
	}
	if st.Size() > s.limits.MaxBodyBytes {
		return nil, tooLargef("image.source.imageUri %q is %d bytes, over the %d-byte limit (--max-body)", uri, st.Size(), s.limits.MaxBodyBytes)
	}
	return io.ReadAll(io.LimitReader(f, s.limits.MaxBodyBytes+1))
}

// stripRoot keeps the server's directory out of error messages.
func stripRoot(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return "cannot open"
}

// decodeMultipart reads a multipart/form-data upload: one or more "image"
// file parts, and optional "features" (comma-separated types, each
// optionally TYPE:N for maxResults, CUSTOM_MODEL:NAME for a custom model;
// default LABEL_DETECTION), "maxResults" and "model" fields, which apply
// to every image.
func (s *Server) decodeMultipart(r *http.Request) ([]job, error) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return nil, invalidf("multipart request without a boundary in Content-Type")
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var images [][]byte
	var featureSpecs []string
	maxResults, model := 0, ""
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, bodyError(err, s.limits.MaxBodyBytes)
		}
		name := p.FormName()
		switch name {
		case "image", "file", "images":
			if len(images) == s.limits.MaxImages {
				return nil, invalidf("more than %d images in one request (--max-images)", s.limits.MaxImages)
			}
			b, err := io.ReadAll(p)
			if err != nil {
				return nil, bodyError(err, s.limits.MaxBodyBytes)
			}
			images = append(images, b)
		case "features", "maxResults", "model":
			b, err := io.ReadAll(io.LimitReader(p, 4096))
			if err != nil {
				return nil, bodyError(err, s.limits.MaxBodyBytes)
			}
			v := strings.TrimSpace(string(b))
			switch name {
			case "features":
				featureSpecs = append(featureSpecs, v)
			case "maxResults":
				if maxResults, err = strconv.Atoi(v); err != nil || maxResults < 0 {
					return nil, invalidf("form field maxResults=%q: want a number >= 0", v)
				}
			case "model":
				model = v
			}
		default:
			return nil, invalidf("unknown form field %q: want image (a file), features, maxResults or model", name)
		}
	}
	if len(images) == 0 {
		return nil, invalidf("no image in the form: upload one with -F image=@photo.jpg")
	}
	var fs []Feature
	for _, spec := range featureSpecs {
		for _, t := range strings.Split(spec, ",") {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			f := Feature{Type: strings.ToUpper(t), MaxResults: maxResults, Model: model}
			if typ, arg, ok := strings.Cut(t, ":"); ok {
				f.Type = strings.ToUpper(typ)
				if f.Type == CustomModel {
					f.Model = arg
				} else if f.MaxResults, err = strconv.Atoi(arg); err != nil {
					return nil, invalidf("features: %q: want TYPE, TYPE:MAXRESULTS or CUSTOM_MODEL:NAME", t)
				}
			}
			fs = append(fs, f)
		}
	}
	if len(featureSpecs) == 0 {
		fs = []Feature{{Type: LabelDetection, MaxResults: maxResults}}
	}
	fs, err = s.checkFeatures(fs, "features")
	if err != nil {
		return nil, err
	}
	jobs := make([]job, len(images))
	for i, b := range images {
		jobs[i] = job{data: b, features: fs}
	}
	return jobs, nil
}

// bodyError turns a read error into 413 when the body was over the limit.
func bodyError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLargef("request body is over the %d-byte limit (--max-body)", limit)
	}
	return invalidf("reading the request body: %v", err)
}

// decodeImage decodes image bytes, refusing data that is not an image and
// images over maxPixels from their header, before any pixel memory is
// allocated (a small file can claim a huge size).
func decodeImage(data []byte, maxPixels int64) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			img, err = nil, invalidf("corrupt image (the decoder failed: %v)", p)
		}
	}()
	if len(data) == 0 {
		return nil, invalidf("empty image content")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, invalidf("bad image data: not an image in a supported format (JPEG, PNG, GIF, BMP, TIFF, WebP)")
		}
		return nil, invalidf("bad image data: unreadable header: %v", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, invalidf("bad image data: %s image of size %dx%d", format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return nil, invalidf("%s image is %dx%d = %d pixels, over the limit of %d pixels (--max-pixels); shrink it first", format, cfg.Width, cfg.Height, px, maxPixels)
	}
	img, _, err = image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, invalidf("bad image data: decoding %s: %v", format, err)
	}
	return img, nil
}
