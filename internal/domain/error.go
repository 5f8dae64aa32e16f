package domain

import (
	"errors"
	"fmt"
	"strings"
)

// ErrorKind classifies an application error; each surface maps kinds to its own answers (HTTP status, exit code).
type ErrorKind string

// Error kinds.
const (
	// ErrInvalid: the input is understood but not acceptable (HTTP 422).
	ErrInvalid ErrorKind = "invalid"
	// ErrBadRequest: the input cannot be understood (HTTP 400).
	ErrBadRequest ErrorKind = "bad_request"
	// ErrNotFound: the thing does not exist, or the caller may not know it does (HTTP 404).
	ErrNotFound ErrorKind = "not_found"
	// ErrConflict: the request is valid but the current state forbids it (HTTP 409).
	ErrConflict ErrorKind = "conflict"
	// ErrPrecondition: the caller acted on a stale version (HTTP 412).
	ErrPrecondition ErrorKind = "precondition_failed"
	// ErrUnauthorized: no valid credentials (HTTP 401).
	ErrUnauthorized ErrorKind = "unauthorized"
	// ErrForbidden: valid credentials, not allowed (HTTP 403).
	ErrForbidden ErrorKind = "forbidden"
	// ErrTooLarge: the request body is over the limit (HTTP 413).
	ErrTooLarge ErrorKind = "too_large"
	// ErrUnsupportedMedia: the body is not in a format we read (HTTP 415).
	ErrUnsupportedMedia ErrorKind = "unsupported_media_type"
	// ErrRateLimited: too many requests from this client (HTTP 429).
	ErrRateLimited ErrorKind = "rate_limited"
	// ErrInternal: our fault; details are logged, never shown (HTTP 500).
	ErrInternal ErrorKind = "internal"
)

// FieldError names one invalid input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	// Allowed lists the accepted values, when the field takes one of a closed set.
	Allowed []string `json:"allowed,omitempty"`
}

// Guard is one condition of the workflow, met or not.
type Guard struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Met     bool   `json:"met"`
}

// Error is mim's application error: a kind, a stable machine-readable code, and a message fit for the person who
// made the request. Wrap other errors inside ErrInternal only.
type Error struct {
	Kind    ErrorKind
	Code    string
	Message string
	Fields  []FieldError
	// Unmet lists the guards that refused a workflow move.
	Unmet []Guard
	// Allowed lists the moves or values that would have been accepted, where that helps.
	Allowed []string
	// Err is the underlying cause, for logs only.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Fields) > 1 {
		for _, f := range e.Fields {
			fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
		}
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf makes an Error of the given kind and code with a formatted message.
func Errorf(kind ErrorKind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid makes a validation error from field errors.
func Invalid(fields ...FieldError) *Error {
	msg := "the request has invalid fields"
	if len(fields) == 1 {
		msg = fields[0].Field + ": " + fields[0].Message
	}
	return &Error{Kind: ErrInvalid, Code: "validation_failed", Message: msg, Fields: fields}
}

// Internal wraps an unexpected error.
func Internal(err error) *Error {
	return &Error{Kind: ErrInternal, Code: "internal", Message: "internal error", Err: err}
}

// AsError finds the *Error in err's chain, turning anything else into an internal error.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}

// IsKind reports whether err is an *Error of the given kind.
func IsKind(err error, kind ErrorKind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}

// Validator collects field errors while checking an input.
type Validator struct{ fields []FieldError }

// Add records a field error.
func (v *Validator) Add(field, message string, allowed ...string) {
	v.fields = append(v.fields, FieldError{Field: field, Message: message, Allowed: allowed})
}

// Check records a field error when ok is false.
func (v *Validator) Check(ok bool, field, message string, allowed ...string) {
	if !ok {
		v.Add(field, message, allowed...)
	}
}

// Err returns the collected errors as one validation Error, or nil.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return Invalid(v.fields...)
}

// OneOf checks an enumerated value and names the allowed values when it is not one of them.
func OneOf[T ~string](v *Validator, field string, value T, allowed []T) {
	for _, a := range allowed {
		if a == value {
			return
		}
	}
	if value == "" {
		v.Add(field, "is required; one of "+strings.Join(Strings(allowed), ", "), Strings(allowed)...)
		return
	}
	v.Add(field, fmt.Sprintf("%q is not allowed; one of %s", string(value), strings.Join(Strings(allowed), ", ")),
		Strings(allowed)...)
}
