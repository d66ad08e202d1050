package vision

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dlcv-go/dlcv/internal/imagefile"
)

// job is one image request after decoding: the image bytes and the
// features to compute, or an error that belongs in its response.
type job struct {
	data     []byte
	features []Feature
	err      error
	info     imagefile.Info // from the header
	cost     int64          // bytes held while it is decoded and annotated
}

// decodeJSON parses a JSON annotate request. Errors in the request's
// structure (bad JSON, unknown features, bad base64, too many images) fail
// the whole request, as Cloud Vision does; an image file that cannot be
// read fails only its own response.
func (s *Server) decodeJSON(body []byte, res *reservation) ([]job, error) {
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
			jobs[i].data, jobs[i].err = s.readURI(uri, res)
			if jobs[i].err != nil && asAPIError(jobs[i].err).code == codeResourceExhausted {
				return nil, jobs[i].err // out of memory fails the request, with Retry-After
			}
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
		case LabelDetection, FaceDetection, ImageProperties, ObjectLocalization, SafeSearchDetection, WebDetectionType, TextDetection:
			// A feature whose model is missing fails each image with a
			// message naming the model, not the request.
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

// haarMaxSide is annotate's bound on the side the Haar detector scans.
const haarMaxSide = 1280

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
// the server never makes outbound requests. Only regular files are read,
// and their type is checked without blocking: opening a FIFO for reading
// would wait for a writer, for ever.
func (s *Server) readURI(uri string, res *reservation) ([]byte, error) {
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
	rel = filepath.Clean(rel)
	// os.Root refuses any path (.., symlinks) that leaves the directory.
	// Stat first: it never blocks, whatever the file is.
	st, err := s.root.Stat(rel)
	if err != nil {
		return nil, uriOpenError(uri, err)
	}
	if !st.Mode().IsRegular() {
		return nil, invalidf("image.source.imageUri %q is not a regular file (%s)", uri, fileKind(st.Mode()))
	}
	// Opened without blocking (O_NONBLOCK where there is one), and checked
	// again, in case it was replaced since the Stat.
	f, err := s.root.OpenFile(rel, openNoBlock, 0)
	if err != nil {
		return nil, uriOpenError(uri, err)
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return nil, deniedf("image.source.imageUri %q: %v", uri, stripRoot(err))
	}
	if !st.Mode().IsRegular() {
		return nil, invalidf("image.source.imageUri %q is not a regular file (%s)", uri, fileKind(st.Mode()))
	}
	if st.Size() > s.limits.MaxBodyBytes {
		return nil, invalidf("image.source.imageUri %q is %d bytes, over the %d-byte limit (--max-body)", uri, st.Size(), s.limits.MaxBodyBytes)
	}
	if err := res.grow(st.Size()); err != nil {
		return nil, err
	}
	b := make([]byte, st.Size())
	n, err := io.ReadFull(f, b)
	if err != nil && err != io.ErrUnexpectedEOF {
		return nil, deniedf("image.source.imageUri %q: reading it: %v", uri, stripRoot(err))
	}
	return b[:n], nil
}

func uriOpenError(uri string, err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return notFoundf("image.source.imageUri %q: no such file in the allowed directory", uri)
	}
	return deniedf("image.source.imageUri %q: cannot open it inside the allowed directory: %v", uri, stripRoot(err))
}

// fileKind names a non-regular file's type for error messages.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "type " + m.Type().String()
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
func (s *Server) decodeMultipart(r *http.Request, res *reservation) ([]job, error) {
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

// bodyError turns a read error into the answer: 400 when the body was
// over the limit, the body reader's own errors (too slow, out of memory)
// as they are.
func bodyError(err error, limit int64) error {
	if errors.Is(err, errBodyTooLarge) {
		return invalidf("request payload size exceeds the limit: the body is over %d bytes (--max-body)", limit)
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	return invalidf("reading the request body: %v", err)
}

// price reads an image's header and returns it with the bytes the image
// holds while it is decoded and annotated, or the error that fails it:
// data that is not an image, or an image over --max-pixels or
// --max-image-bytes (a small file can claim a huge size).
func (s *Server) price(data []byte, features []Feature) (imagefile.Info, int64, error) {
	if len(data) == 0 {
		return imagefile.Info{}, 0, invalidf("empty image content")
	}
	info, err := imagefile.Inspect(data)
	if err != nil {
		if errors.Is(err, imagefile.ErrFormat) {
			return info, 0, invalidf("bad image data: %v", err)
		}
		return info, 0, invalidf("bad image data: %v", err)
	}
	if err := s.imageLimits().Check(info); err != nil {
		return info, 0, limitError(err)
	}
	return info, info.DecodeBytes + s.workBytes(info, features), nil
}

func (s *Server) imageLimits() imagefile.Limits {
	return imagefile.Limits{MaxPixels: s.limits.MaxPixels, MaxBytes: s.limits.MaxImageBytes}
}

// limitError phrases an image over a limit with the flag that sets it.
func limitError(err error) error {
	var le *imagefile.LimitError
	if !errors.As(err, &le) {
		return invalidf("bad image data: %v", err)
	}
	if le.Pixels {
		return invalidf("%v (--max-pixels); shrink it first", le)
	}
	return invalidf("%v (--max-image-bytes); shrink it first", le)
}

// workBytes estimates the memory the features take on top of the decoded
// image (measured: the bytes allocated, which bound the bytes live; the
// features run one after the other).
func (s *Server) workBytes(info imagefile.Info, features []Feature) int64 {
	px := info.Pixels()
	var most int64
	for _, f := range features {
		var n int64
		switch f.Type {
		case LabelDetection:
			n = 3*px + 16<<20 // an RGB copy, the resize and the model's tensors
		case ImageProperties:
			n = 1 << 20 // a 96x96 sample
		case FaceDetection:
			// The Haar scan works on at most haarMaxSide x haarMaxSide:
			// the downscaled copy, its gray image, integral images and
			// the pyramid levels in work. BlazeFace and the emotion
			// model: an RGB and a float copy, small tensors.
			scanned := px
			if side := max(info.Width, info.Height); side > haarMaxSide {
				k := float64(haarMaxSide) / float64(side)
				scanned = int64(float64(px)*k*k) + 1
			}
			n = max(48*scanned, 16*px) + 8<<20
		case ObjectLocalization, SafeSearchDetection, WebDetectionType, TextDetection:
			// An RGB and a float copy of the image, the model's input
			// and activations (CenterNet at 512x512: tens of MB).
			n = 16*px + 64<<20
		case CustomModel:
			// The preprocessing's float copy of the whole image, then
			// the network's input and activations.
			if m := s.custom[f.Model]; m != nil {
				n = 4*px*int64(m.Preprocess.Channels) + 16*4*int64(m.Preprocess.Len()) + 4<<20
			}
		}
		most = max(most, n)
	}
	return most
}

// decodeImage decodes image bytes to 8 bits a channel, refusing data that
// is not an image and images over the limits from their header, before
// any pixel memory is allocated.
func (s *Server) decodeImage(ctx context.Context, data []byte) (image.Image, error) {
	if len(data) == 0 {
		return nil, invalidf("empty image content")
	}
	img, err := imagefile.Decode(ctx, data, s.imageLimits())
	if err != nil {
		var le *imagefile.LimitError
		switch {
		case errors.As(err, &le):
			return nil, limitError(err)
		case errors.Is(err, imagefile.ErrFormat):
			return nil, invalidf("bad image data: %v", err)
		case ctx.Err() != nil:
			return nil, errorf(codeDeadlineExceeded, "request cancelled")
		}
		return nil, invalidf("bad image data: %v", err)
	}
	return img, nil
}
