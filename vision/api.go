package vision

// The JSON types follow Cloud Vision's v1 REST API (images:annotate), so
// that its clients and examples carry over. Only the fields this server
// fills are declared.

// Feature types.
const (
	LabelDetection  = "LABEL_DETECTION"
	ImageProperties = "IMAGE_PROPERTIES"
	FaceDetection   = "FACE_DETECTION"
	CustomModel     = "CUSTOM_MODEL"
)

// FeatureTypes lists the feature types the API knows.
var FeatureTypes = []string{LabelDetection, ImageProperties, FaceDetection, CustomModel}

// BatchRequest is the body of POST /v1/images:annotate.
type BatchRequest struct {
	Requests []ImageRequest `json:"requests"`
}

// ImageRequest is one image and what to find in it.
type ImageRequest struct {
	Image    Image     `json:"image"`
	Features []Feature `json:"features"`
}

// Image holds the image bytes (base64 in JSON) or a reference to a local
// file under the server's allowed directory.
type Image struct {
	Content string       `json:"content,omitempty"`
	Source  *ImageSource `json:"source,omitempty"`
}

// ImageSource names an image by URI; only local paths are accepted.
type ImageSource struct {
	ImageURI    string `json:"imageUri,omitempty"`
	GCSImageURI string `json:"gcsImageUri,omitempty"`
}

// Feature is one kind of annotation to compute.
type Feature struct {
	Type       string `json:"type"`
	MaxResults int    `json:"maxResults,omitempty"`
	// Model names the custom model of a CUSTOM_MODEL feature.
	Model string `json:"model,omitempty"`
}

// BatchResponse is the reply: one response per request, in order.
type BatchResponse struct {
	Responses []ImageResponse `json:"responses"`
}

// ImageResponse holds the annotations of one image, or its error.
type ImageResponse struct {
	LabelAnnotations          []EntityAnnotation         `json:"labelAnnotations,omitempty"`
	ImagePropertiesAnnotation *ImagePropertiesAnnotation `json:"imagePropertiesAnnotation,omitempty"`
	FaceAnnotations           []FaceAnnotation           `json:"faceAnnotations,omitempty"`
	CustomAnnotations         []CustomAnnotation         `json:"customAnnotations,omitempty"`
	Error                     *Status                    `json:"error,omitempty"`
}

// EntityAnnotation is a label with its score in [0,1].
type EntityAnnotation struct {
	Description string  `json:"description"`
	Score       float64 `json:"score"`
	// Topicality equals Score here (Cloud Vision separates relevance to
	// the image from detection confidence; a classifier has only one).
	Topicality float64 `json:"topicality"`
}

// ImagePropertiesAnnotation holds the dominant colours.
type ImagePropertiesAnnotation struct {
	DominantColors DominantColors `json:"dominantColors"`
}

// DominantColors lists colours, most frequent first.
type DominantColors struct {
	Colors []ColorInfo `json:"colors"`
}

// ColorInfo is one dominant colour: Score and PixelFraction are both the
// fraction of (downsampled) pixels in its cluster.
type ColorInfo struct {
	Color         Color   `json:"color"`
	Score         float64 `json:"score"`
	PixelFraction float64 `json:"pixelFraction"`
}

// Color is an RGB colour with 0..255 components.
type Color struct {
	Red   float64 `json:"red"`
	Green float64 `json:"green"`
	Blue  float64 `json:"blue"`
}

// FaceAnnotation is one face.
type FaceAnnotation struct {
	BoundingPoly BoundingPoly `json:"boundingPoly"`
	// DetectionConfidence grows with the number of raw cascade windows
	// merged into the face: 1 - 1/(1+neighbors).
	DetectionConfidence float64 `json:"detectionConfidence"`
	// JoyLikelihood is one of Likelihoods, from the smile probability;
	// UNKNOWN when the server has no smile model.
	JoyLikelihood string `json:"joyLikelihood"`
	// JoyProbability is the smile classifier's probability (absent
	// without a smile model); an extension of Cloud Vision's API.
	JoyProbability *float64 `json:"joyProbability,omitempty"`
}

// BoundingPoly is a polygon; faces are axis-aligned boxes given as four
// vertices clockwise from the top left.
type BoundingPoly struct {
	Vertices []Vertex `json:"vertices"`
}

// Vertex is a pixel position in the image.
type Vertex struct {
	X int `json:"x"`
	Y int `json:"y"`
}

// CustomAnnotation is the result of a CUSTOM_MODEL feature.
type CustomAnnotation struct {
	Model  string             `json:"model"`
	Labels []EntityAnnotation `json:"labels"`
}

// Status is an error in the shape of google.rpc.Status: Code is the gRPC
// code (3 INVALID_ARGUMENT, ...), Status its name.
type Status struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  string `json:"status,omitempty"`
}

// ErrorBody is the body of a failed HTTP request (Google API style: the
// code there is the HTTP status).
type ErrorBody struct {
	Error Status `json:"error"`
}
