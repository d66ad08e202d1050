package annotate

// The JSON types follow Cloud Vision's v1 REST API (images:annotate), so
// that its clients and examples carry over. Only the fields dlcv fills
// are declared; fields marked as extensions are not Cloud Vision's.

// Feature types.
const (
	LabelDetection      = "LABEL_DETECTION"
	ImageProperties     = "IMAGE_PROPERTIES"
	FaceDetection       = "FACE_DETECTION"
	ObjectLocalization  = "OBJECT_LOCALIZATION"
	SafeSearchDetection = "SAFE_SEARCH_DETECTION"
	WebDetectionType    = "WEB_DETECTION"
	TextDetection       = "TEXT_DETECTION"
	CustomModel         = "CUSTOM_MODEL"
)

// FeatureTypes lists the feature types the API knows, in the order of
// Cloud Vision's demo tabs.
var FeatureTypes = []string{ObjectLocalization, LabelDetection, WebDetectionType, ImageProperties, SafeSearchDetection, FaceDetection, TextDetection, CustomModel}

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
	LocalizedObjectAnnotations []LocalizedObjectAnnotation `json:"localizedObjectAnnotations,omitempty"`
	LabelAnnotations           []EntityAnnotation          `json:"labelAnnotations,omitempty"`
	WebDetection               *WebDetection               `json:"webDetection,omitempty"`
	ImagePropertiesAnnotation  *ImagePropertiesAnnotation  `json:"imagePropertiesAnnotation,omitempty"`
	SafeSearchAnnotation       *SafeSearchAnnotation       `json:"safeSearchAnnotation,omitempty"`
	FaceAnnotations            []FaceAnnotation            `json:"faceAnnotations,omitempty"`
	TextAnnotations            []TextAnnotation            `json:"textAnnotations,omitempty"`
	FullTextAnnotation         *FullTextAnnotation         `json:"fullTextAnnotation,omitempty"`
	CustomAnnotations          []CustomAnnotation          `json:"customAnnotations,omitempty"`
	Error                      *Status                     `json:"error,omitempty"`
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

// LocalizedObjectAnnotation is one detected object: its class name, the
// detector's score and its box in coordinates normalised to [0,1] by the
// image's width and height.
type LocalizedObjectAnnotation struct {
	Name         string       `json:"name"`
	Score        float64      `json:"score"`
	BoundingPoly BoundingPoly `json:"boundingPoly"`
}

// SafeSearchAnnotation holds Cloud Vision's five likelihoods (values of
// Likelihoods). Categories the model cannot judge are UNKNOWN.
type SafeSearchAnnotation struct {
	Adult    string `json:"adult"`
	Spoof    string `json:"spoof"`
	Medical  string `json:"medical"`
	Violence string `json:"violence"`
	Racy     string `json:"racy"`
	// ClassScores are the classifier's probabilities by class name
	// (Drawing, Hentai, Neutral, Porn, Sexy); an extension.
	ClassScores map[string]float64 `json:"classScores,omitempty"`
}

// FaceAnnotation is one face.
type FaceAnnotation struct {
	// BoundingPoly is the box around the head, FdBoundingPoly the
	// detector's tighter box around the skin of the face (the Haar
	// detector gives one box, used for both).
	BoundingPoly   BoundingPoly `json:"boundingPoly"`
	FdBoundingPoly BoundingPoly `json:"fdBoundingPoly"`
	Landmarks      []Landmark   `json:"landmarks,omitempty"`
	// RollAngle is the eye line's angle in degrees, clockwise positive as
	// seen in the image (0 without landmarks).
	RollAngle float64 `json:"rollAngle"`
	// DetectionConfidence is BlazeFace's score, or for the Haar cascade
	// 1 - 1/(1+neighbors) (it grows with the raw windows merged).
	DetectionConfidence float64 `json:"detectionConfidence"`
	// The expression likelihoods, values of Likelihoods; UNKNOWN when
	// no model gives them.
	JoyLikelihood      string `json:"joyLikelihood"`
	SorrowLikelihood   string `json:"sorrowLikelihood"`
	AngerLikelihood    string `json:"angerLikelihood"`
	SurpriseLikelihood string `json:"surpriseLikelihood"`
	// JoyProbability is the smile classifier's probability (absent
	// without a smile model); an extension.
	JoyProbability *float64 `json:"joyProbability,omitempty"`
	// Emotions are the expression model's seven FER-2013 probabilities
	// by name (angry, disgust, fear, happy, sad, surprise, neutral); an
	// extension.
	Emotions map[string]float64 `json:"emotions,omitempty"`
}

// Landmark is a facial landmark: Type is a Cloud Vision landmark type
// (LEFT_EYE, RIGHT_EYE, NOSE_TIP, MOUTH_CENTER, LEFT_EAR_TRAGION,
// RIGHT_EAR_TRAGION; left and right as seen in the image).
type Landmark struct {
	Type     string   `json:"type"`
	Position Position `json:"position"`
}

// Position is a point in image pixels (Z is always 0: BlazeFace gives
// no depth).
type Position struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	Z float64 `json:"z"`
}

// BoundingPoly is a polygon: four vertices clockwise from the top left.
// Faces have pixel Vertices, objects NormalizedVertices.
type BoundingPoly struct {
	Vertices           []Vertex           `json:"vertices,omitempty"`
	NormalizedVertices []NormalizedVertex `json:"normalizedVertices,omitempty"`
}

// Vertex is a pixel position in the image.
type Vertex struct {
	X int `json:"x"`
	Y int `json:"y"`
}

// NormalizedVertex is a position as fractions of the image's width and
// height.
type NormalizedVertex struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// WebDetection is WEB_DETECTION's answer, from a local index instead of
// the web: image URLs are paths relative to the indexed folder, scores
// cosine similarities (see package doc and docs/web.md).
type WebDetection struct {
	WebEntities           []WebEntity `json:"webEntities,omitempty"`
	FullMatchingImages    []WebImage  `json:"fullMatchingImages,omitempty"`
	PartialMatchingImages []WebImage  `json:"partialMatchingImages,omitempty"`
	VisuallySimilarImages []WebImage  `json:"visuallySimilarImages,omitempty"`
	BestGuessLabels       []WebLabel  `json:"bestGuessLabels,omitempty"`
}

// WebEntity is a label of the similar images (their folder name), its
// score the share of their similarity.
type WebEntity struct {
	EntityID    string  `json:"entityId"`
	Score       float64 `json:"score"`
	Description string  `json:"description"`
}

// WebImage is an indexed image.
type WebImage struct {
	URL   string  `json:"url"`
	Score float64 `json:"score"`
}

// WebLabel is a best guess for the image's topic.
type WebLabel struct {
	Label string `json:"label"`
}

// TextAnnotation is read text: the first of a response's is all of it,
// the others one line each, with pixel boxes.
type TextAnnotation struct {
	Locale       string       `json:"locale,omitempty"`
	Description  string       `json:"description"`
	BoundingPoly BoundingPoly `json:"boundingPoly"`
}

// FullTextAnnotation is the whole text (dlcv fills its text only, not
// Cloud Vision's pages, blocks and symbols).
type FullTextAnnotation struct {
	Text string `json:"text"`
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

// boxVertices is an integer box's four vertices clockwise from the top left.
func boxVertices(x0, y0, x1, y1 int) []Vertex {
	return []Vertex{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
}
