package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/domain"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// errTooLarge is answered with 413.
var errTooLarge = &domain.Error{Kind: domain.ErrTooLarge, Code: "body_too_large",
	Message: fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes)}

// decode reads one JSON value into dst, strictly: a JSON content type, at most MaxBodyBytes, no unknown fields, no
// trailing data. Errors are domain errors that name what is wrong.
func decode(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &domain.Error{Kind: domain.ErrUnsupportedMedia, Code: "unsupported_media_type",
				Message: "send the body as application/json"}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errTooLarge
		}
		return &domain.Error{Kind: domain.ErrBadRequest, Code: "invalid_body", Message: "could not read the request body"}
	}
	return decodeBytes(body, dst)
}

// decodeOptional is decode for a body that may be left out: an empty body leaves dst as it is.
func decodeOptional(w http.ResponseWriter, r *http.Request, dst any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		return errTooLarge
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return decode(w, r, dst)
}

// decodeBytes is decode's parser, separate so it can be fuzzed.
func decodeBytes(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &domain.Error{Kind: domain.ErrBadRequest, Code: "invalid_json", Message: "the request body is empty; send a JSON object"}
	}
	// PostgreSQL text cannot hold NUL, and no field of this API has a use for it.
	if bytes.Contains(body, []byte(`\u0000`)) {
		return domain.Invalid(domain.FieldError{Field: "body", Message: "text must not contain NUL characters (\\u0000)"})
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return &domain.Error{Kind: domain.ErrBadRequest, Code: "invalid_json", Message: "the body must hold a single JSON value"}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &domain.Error{Kind: domain.ErrBadRequest, Code: "invalid_json", Message: "the body must hold a single JSON value"}
	}
	return nil
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &domain.Error{Kind: domain.ErrBadRequest, Code: "invalid_json",
			Message: fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, syn.Error())}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &domain.Error{Kind: domain.ErrBadRequest, Code: "invalid_json", Message: "malformed JSON: unexpected end"}
	case errors.As(err, &typ):
		field := strings.TrimPrefix(typ.Field, "criteriaInput.")
		if field == "" {
			return &domain.Error{Kind: domain.ErrBadRequest, Code: "invalid_json", Message: "the body must be a JSON object"}
		}
		return domain.Invalid(domain.FieldError{Field: field, Message: "must be a JSON " + jsonKind(typ.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return domain.Invalid(domain.FieldError{Field: name, Message: "is not a field of this request"})
	}
	return &domain.Error{Kind: domain.ErrBadRequest, Code: "invalid_json", Message: "malformed JSON: " + err.Error()}
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	}
	return "number"
}

// parseTime reads an optional timestamp field, which must carry an explicit offset or Z: a zone-less time would be
// read in some zone on write and another on read (field case BC-02). An absent or null value is nil; an empty string
// is an error, like any other string that is not a timestamp.
func parseTime(v *domain.Validator, field string, s *string) *time.Time {
	if s == nil {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(*s))
	if err != nil {
		v.Add(field, fmt.Sprintf("%q is not an RFC 3339 timestamp with an offset, e.g. 2026-03-10T19:00:00Z", *s))
		return nil
	}
	if y := t.UTC().Year(); y < 1970 || y > 9999 {
		v.Add(field, "must be between the years 1970 and 9999")
		return nil
	}
	return &t
}
