package annotate

import (
	"errors"
	"fmt"
)

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
	return e.Feature + " is not available: " + e.Reason()
}

// Reason is the error without the feature's name, for lists keyed by
// feature (the service's start-up lines, /healthz).
func (e *MissingModelError) Reason() string {
	if e.hint != "" {
		return fmt.Sprintf("the server has no %s (%s)", e.Model, e.hint)
	}
	return fmt.Sprintf("the model %q is not loaded (download it with 'dlcv models pull %s')", e.Model, e.Model)
}

// Reason is why err makes a feature unavailable: a MissingModelError's
// Reason, else the error's text.
func Reason(err error) string {
	var me *MissingModelError
	if errors.As(err, &me) {
		return me.Reason()
	}
	return err.Error()
}
