// Package api serves the REST API under /api/v1: strict JSON in, JSON out, every error an RFC 9457
// application/problem+json document with a stable code.
package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/mimhq/mim/internal/domain"
)

// Problem is an RFC 9457 problem document with mim's extension members.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Code      string              `json:"code"`
	Detail    string              `json:"detail,omitempty"`
	Instance  string              `json:"instance,omitempty"`
	Errors    []domain.FieldError `json:"errors,omitempty"`
	Guards    []domain.Guard      `json:"unmet_guards,omitempty"`
	Allowed   []string            `json:"allowed,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
}

var statusOf = map[domain.ErrorKind]int{
	domain.ErrInvalid:          http.StatusUnprocessableEntity,
	domain.ErrBadRequest:       http.StatusBadRequest,
	domain.ErrNotFound:         http.StatusNotFound,
	domain.ErrConflict:         http.StatusConflict,
	domain.ErrPrecondition:     http.StatusPreconditionFailed,
	domain.ErrUnauthorized:     http.StatusUnauthorized,
	domain.ErrForbidden:        http.StatusForbidden,
	domain.ErrTooLarge:         http.StatusRequestEntityTooLarge,
	domain.ErrUnsupportedMedia: http.StatusUnsupportedMediaType,
	domain.ErrRateLimited:      http.StatusTooManyRequests,
	domain.ErrInternal:         http.StatusInternalServerError,
}

// StatusFor is the HTTP status of an error; errors that are not domain errors are internal.
func StatusFor(err error) int {
	if st, ok := statusOf[domain.AsError(err).Kind]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// WriteError answers with the problem document for err. It is the one place API errors become HTTP: internal errors
// are logged with the request id and answered without their text.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	e := domain.AsError(err)
	status := StatusFor(e)
	if e.Kind == domain.ErrInternal {
		if r.Context().Err() != nil {
			return // the client went away; nobody reads an answer
		}
		logger.ErrorContext(r.Context(), "internal error", "err", err, "method", r.Method, "path", r.URL.Path,
			"request_id", middleware.GetReqID(r.Context()))
	}
	p := Problem{
		Type: "urn:mim:problem:" + e.Code, Title: http.StatusText(status), Status: status, Code: e.Code,
		Detail: e.Message, Instance: r.URL.Path, Errors: e.Fields, Guards: e.Unmet, Allowed: e.Allowed,
		RequestID: middleware.GetReqID(r.Context()),
	}
	if e.Kind == domain.ErrInternal {
		p.Detail = "internal error; quote the request id when reporting it"
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mim"`)
	}
	WriteProblem(w, p)
}

// WriteProblem writes a problem document.
func WriteProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// NewProblem builds a problem for a status and code, with the request id.
func NewProblem(r *http.Request, status int, code, detail string) Problem {
	return Problem{Type: "urn:mim:problem:" + code, Title: http.StatusText(status), Status: status,
		Code: code, Detail: detail, Instance: r.URL.Path, RequestID: middleware.GetReqID(r.Context())}
}

// writeJSON writes v as JSON with the status. It encodes first, so a value that cannot be encoded is a proper 500,
// never a success with an empty body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		WriteProblem(w, Problem{Type: "urn:mim:problem:internal", Title: http.StatusText(http.StatusInternalServerError),
			Status: http.StatusInternalServerError, Code: "internal",
			Detail: "internal error: the answer could not be encoded"})
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
