// Package smiles is the smile detection case study: a LeNet-style network
// trained on the SMILEsmileD faces (data.LoadSmiles) tells smiling from
// not smiling, and a Detector finds faces in photos with a Haar cascade
// (package detect), crops each one, prepares it with the model's
// preprocessing and classifies it.
//
// A model trained by 'dlcv smiles train' ships inside the package
// (DefaultModel), so detection works without a model file:
//
//	m, err := smiles.DefaultModel()
//	c, err := detect.LoadCascade(detect.DefaultCascadePath())
//	d, err := smiles.NewDetector(m, c, detect.Options{MinSize: 30})
//	faces, err := d.Detect(img) // box, label, probability per face
//	annotated := smiles.Annotate(img, faces)
package smiles
