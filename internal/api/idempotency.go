package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/mimhq/mim/internal/domain"
)

// StoredResponse is the answer kept for an Idempotency-Key.
type StoredResponse struct {
	RequestHash []byte
	Status      int
	Header      map[string]string
	Body        []byte
}

// ErrInProgress is returned by IdempotencyStore.Claim while another request with the same key is running.
var ErrInProgress = errors.New("a request with this Idempotency-Key is in progress")

// IdempotencyStore keeps the answers of creating calls per (user, key).
type IdempotencyStore interface {
	// Claim reserves the key for a new request, or returns the stored answer of an earlier one (done true), or
	// ErrInProgress.
	Claim(ctx context.Context, userID, key, method, path string, hash []byte) (prev StoredResponse, done bool, err error)
	// Complete stores the answer of a claimed key.
	Complete(ctx context.Context, userID, key string, resp StoredResponse) error
	// Release gives up a claim, so the request can be retried (its answer was an error).
	Release(ctx context.Context, userID, key string) error
}

// replayedHeaders are kept with a stored answer.
var replayedHeaders = []string{"Content-Type", "Location", "ETag"}

// idempotent makes a creating call safe to retry: the same Idempotency-Key and body give the first answer again
// instead of creating twice (field case BC-15). Only successful answers are kept: an error changed nothing, so
// retrying it is safe anyway.
func (a *API) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" || a.Idempotency == nil {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > 255 || strings.IndexFunc(key, func(c rune) bool { return c < 0x21 || c > 0x7e }) >= 0 {
			WriteError(w, r, a.Logger, &domain.Error{Kind: domain.ErrBadRequest, Code: "invalid_idempotency_key",
				Message: "Idempotency-Key must be 1–255 printable ASCII characters"})
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			WriteError(w, r, a.Logger, errTooLarge)
			return
		} else if err != nil {
			WriteError(w, r, a.Logger, &domain.Error{Kind: domain.ErrBadRequest, Code: "invalid_body",
				Message: "could not read the request body"})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h := sha256.New()
		h.Write([]byte(r.Method + " " + r.URL.Path + "\n"))
		h.Write(body)
		hash := h.Sum(nil)
		user := actorFrom(r.Context()).UserID

		prev, done, err := a.Idempotency.Claim(r.Context(), user, key, r.Method, r.URL.Path, hash)
		switch {
		case errors.Is(err, ErrInProgress):
			w.Header().Set("Retry-After", "1")
			WriteError(w, r, a.Logger, &domain.Error{Kind: domain.ErrConflict, Code: "idempotency_in_progress",
				Message: "a request with this Idempotency-Key is still being processed; retry shortly"})
			return
		case err != nil:
			WriteError(w, r, a.Logger, err)
			return
		case done:
			if !bytes.Equal(prev.RequestHash, hash) {
				WriteError(w, r, a.Logger, &domain.Error{Kind: domain.ErrInvalid, Code: "idempotency_key_reused",
					Message: "this Idempotency-Key was used for a different request; use a new key"})
				return
			}
			for k, v := range prev.Header {
				w.Header().Set(k, v)
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(prev.Status)
			_, _ = w.Write(prev.Body)
			return
		}

		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		// The answer is stored even if the client went away: its retry must find it.
		ctx := context.WithoutCancel(r.Context())
		if rec.status >= 200 && rec.status < 300 {
			resp := StoredResponse{RequestHash: hash, Status: rec.status, Header: map[string]string{}, Body: rec.body.Bytes()}
			for _, k := range replayedHeaders {
				if v := w.Header().Get(k); v != "" {
					resp.Header[k] = v
				}
			}
			if err := a.Idempotency.Complete(ctx, user, key, resp); err != nil {
				a.Logger.ErrorContext(ctx, "store idempotent response", "err", err)
			}
			return
		}
		if err := a.Idempotency.Release(ctx, user, key); err != nil {
			a.Logger.ErrorContext(ctx, "release idempotency key", "err", err)
		}
	})
}

// recorder passes a response through while keeping a copy.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
