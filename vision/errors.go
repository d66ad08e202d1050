package vision

import (
	"errors"
	"fmt"
	"net/http"
)

// gRPC status codes used in errors (google.rpc.Code).
const (
	codeInvalidArgument   = 3
	codeDeadlineExceeded  = 4
	codeNotFound          = 5
	codePermissionDenied  = 7
	codeResourceExhausted = 8
	codeUnimplemented     = 12
	codeInternal          = 13
	codeUnavailable       = 14
)

var codeNames = map[int]string{
	codeInvalidArgument:   "INVALID_ARGUMENT",
	codeDeadlineExceeded:  "DEADLINE_EXCEEDED",
	codeNotFound:          "NOT_FOUND",
	codePermissionDenied:  "PERMISSION_DENIED",
	codeResourceExhausted: "RESOURCE_EXHAUSTED",
	codeUnimplemented:     "UNIMPLEMENTED",
	codeInternal:          "INTERNAL",
	codeUnavailable:       "UNAVAILABLE",
}

// apiError is an error with its gRPC code and HTTP status.
type apiError struct {
	code int // gRPC
	http int
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func (e *apiError) status() *Status {
	return &Status{Code: e.code, Message: e.msg, Status: codeNames[e.code]}
}

func invalidf(format string, args ...any) error {
	return &apiError{codeInvalidArgument, http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func tooLargef(format string, args ...any) error {
	return &apiError{codeInvalidArgument, http.StatusRequestEntityTooLarge, fmt.Sprintf(format, args...)}
}

func deniedf(format string, args ...any) error {
	return &apiError{codePermissionDenied, http.StatusForbidden, fmt.Sprintf(format, args...)}
}

func notFoundf(format string, args ...any) error {
	return &apiError{codeNotFound, http.StatusNotFound, fmt.Sprintf(format, args...)}
}

func unavailablef(format string, args ...any) error {
	return &apiError{codeUnavailable, http.StatusServiceUnavailable, fmt.Sprintf(format, args...)}
}

// asAPIError wraps any error; unknown ones are internal.
func asAPIError(err error) *apiError {
	var e *apiError
	if errors.As(err, &e) {
		return e
	}
	return &apiError{codeInternal, http.StatusInternalServerError, err.Error()}
}
