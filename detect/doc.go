// Package detect finds faces (or any object a Haar cascade was trained
// for) with the Viola-Jones detector, reading the cascade XML files that
// OpenCV's opencv_traincascade writes (such as haarcascade_frontalface_default.xml).
//
// A cascade is a list of stages; each stage sums the votes of boosted
// decision stumps over Haar-like features (differences of rectangle sums,
// upright or rotated by 45 degrees) and rejects the window when the sum is
// below the stage threshold. Rectangle sums come from integral images in
// constant time, feature values are divided by the window's standard
// deviation so that contrast does not matter, and almost all windows are
// rejected by the first few stages, which is what makes the detector fast.
//
// Detect follows OpenCV's CascadeClassifier.detectMultiScale: the image is
// converted to gray with cv2.cvtColor's fixed-point weights, shrunk by
// powers of the scale factor with bit-exact bilinear resizing, scanned
// with a step of 2 pixels (1 pixel once the scale reaches 2), and the
// surviving windows are merged with OpenCV's groupRectangles. The same
// photo gives the same boxes as OpenCV 4.
//
// Usage:
//
//	c, err := detect.LoadCascade(detect.DefaultCascadePath())
//	faces, err := c.Detect(img, detect.Options{MinSize: 30})
package detect
