package vision

import "github.com/dlcv-go/dlcv/annotate"

// The JSON types are Cloud Vision's v1 REST API (images:annotate); they
// live in package annotate, which computes them, and are named here too
// for the service's callers.

// Feature types.
const (
	LabelDetection      = annotate.LabelDetection
	ImageProperties     = annotate.ImageProperties
	FaceDetection       = annotate.FaceDetection
	ObjectLocalization  = annotate.ObjectLocalization
	SafeSearchDetection = annotate.SafeSearchDetection
	WebDetectionType    = annotate.WebDetectionType
	TextDetection       = annotate.TextDetection
	CustomModel         = annotate.CustomModel
)

// FeatureTypes lists the feature types the API knows.
var FeatureTypes = annotate.FeatureTypes

type (
	BatchRequest              = annotate.BatchRequest
	ImageRequest              = annotate.ImageRequest
	Image                     = annotate.Image
	ImageSource               = annotate.ImageSource
	Feature                   = annotate.Feature
	BatchResponse             = annotate.BatchResponse
	ImageResponse             = annotate.ImageResponse
	EntityAnnotation          = annotate.EntityAnnotation
	ImagePropertiesAnnotation = annotate.ImagePropertiesAnnotation
	DominantColors            = annotate.DominantColors
	ColorInfo                 = annotate.ColorInfo
	Color                     = annotate.Color
	LocalizedObjectAnnotation = annotate.LocalizedObjectAnnotation
	SafeSearchAnnotation      = annotate.SafeSearchAnnotation
	FaceAnnotation            = annotate.FaceAnnotation
	Landmark                  = annotate.Landmark
	BoundingPoly              = annotate.BoundingPoly
	Vertex                    = annotate.Vertex
	NormalizedVertex          = annotate.NormalizedVertex
	CustomAnnotation          = annotate.CustomAnnotation
	Status                    = annotate.Status
	ErrorBody                 = annotate.ErrorBody
	// Labeler is the LABEL_DETECTION classifier (annotate.NewLabeler).
	Labeler = annotate.Labeler
)
