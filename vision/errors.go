package vision

import (
	"errors"
	"fmt"
)

// google.rpc.Code values (google/rpc/code.proto).
const (
	codeOK                 = 0
	codeCancelled          = 1
	codeUnknown            = 2
	codeInvalidArgument    = 3
	codeDeadlineExceeded   = 4
	codeNotFound           = 5
	codeAlreadyExists      = 6
	codePermissionDenied   = 7
	codeResourceExhausted  = 8
	codeFailedPrecondition = 9
	codeAborted            = 10
	codeOutOfRange         = 11
	codeUnimplemented      = 12
	codeInternal           = 13
	codeUnavailable        = 14
	codeDataLoss           = 15
	codeUnauthenticated    = 16
)

// rpcCodes is the one table from google.rpc codes to their names and HTTP
// statuses, as code.proto publishes the mapping. Every error answer takes
// its HTTP status from here, so the two never disagree.
var rpcCodes = [...]struct {
	name string
	http int
}{
	codeOK:                 {"OK", 200},
	codeCancelled:          {"CANCELLED", 499},
	codeUnknown:            {"UNKNOWN", 500},
	codeInvalidArgument:    {"INVALID_ARGUMENT", 400},
	codeDeadlineExceeded:   {"DEADLINE_EXCEEDED", 504},
	codeNotFound:           {"NOT_FOUND", 404},
	codeAlreadyExists:      {"ALREADY_EXISTS", 409},
	codePermissionDenied:   {"PERMISSION_DENIED", 403},
	codeResourceExhausted:  {"RESOURCE_EXHAUSTED", 429},
	codeFailedPrecondition: {"FAILED_PRECONDITION", 400},
	codeAborted:            {"ABORTED", 409},
	codeOutOfRange:         {"OUT_OF_RANGE", 400},
	codeUnimplemented:      {"UNIMPLEMENTED", 501},
	codeInternal:           {"INTERNAL", 500},
	codeUnavailable:        {"UNAVAILABLE", 503},
	codeDataLoss:           {"DATA_LOSS", 500},
	codeUnauthenticated:    {"UNAUTHENTICATED", 401},
}

// codeName is the google.rpc name of a code ("" for an unknown code).
func codeName(code int) string {
	if code < 0 || code >= len(rpcCodes) {
		return ""
	}
	return rpcCodes[code].name
}

// httpStatus is the HTTP status google.rpc maps a code to (500 for an
// unknown code).
func httpStatus(code int) int {
	if code < 0 || code >= len(rpcCodes) {
		return 500
	}
	return rpcCodes[code].http
}

// apiError is an error with its google.rpc code; its HTTP status follows
// from the code.
type apiError struct {
	code int
	msg  string
	// retryAfter, when set, is sent as the Retry-After header (seconds).
	retryAfter int
}

func (e *apiError) Error() string { return e.msg }

func (e *apiError) http() int { return httpStatus(e.code) }

func (e *apiError) status() *Status {
	return &Status{Code: e.code, Message: e.msg, Status: codeName(e.code)}
}

func errorf(code int, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

// invalidf is also the answer to a body over --max-body: Cloud Vision
// answers 400 INVALID_ARGUMENT "Request payload size exceeds the limit".
func invalidf(format string, args ...any) error { return errorf(codeInvalidArgument, format, args...) }

func deniedf(format string, args ...any) error { return errorf(codePermissionDenied, format, args...) }

func notFoundf(format string, args ...any) error { return errorf(codeNotFound, format, args...) }

func unauthenticatedf(format string, args ...any) error {
	return errorf(codeUnauthenticated, format, args...)
}

// unavailablef and exhaustedf are the load-shedding answers: the client
// should retry after retryAfter seconds.
func unavailablef(retryAfter int, format string, args ...any) error {
	e := errorf(codeUnavailable, format, args...)
	e.retryAfter = retryAfter
	return e
}

func exhaustedf(retryAfter int, format string, args ...any) error {
	e := errorf(codeResourceExhausted, format, args...)
	e.retryAfter = retryAfter
	return e
}

// asAPIError wraps any error; unknown ones are internal.
func asAPIError(err error) *apiError {
	var e *apiError
	if errors.As(err, &e) {
		return e
	}
	return &apiError{code: codeInternal, msg: err.Error()}
}
