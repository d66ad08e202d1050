package annotate

import "fmt"

// missingModel is the error of a feature whose model is not loaded: it
// names the model and the command that downloads it.
func missingModel(model, feature string) error {
	return &MissingModelError{Model: model, Feature: feature}
}

// MissingModelError says that a feature's model is not loaded.
type MissingModelError struct {
	Model, Feature string
	hint           string // how to get it, when not 'dlcv models pull'
}

func (e *MissingModelError) Error() string {
	if e.hint != "" {
		return fmt.Sprintf("%s is not available: the server has no %s (%s)", e.Feature, e.Model, e.hint)
	}
	return fmt.Sprintf("%s is not available: the model %q is not loaded (download it with 'dlcv models pull %s')", e.Feature, e.Model, e.Model)
}
