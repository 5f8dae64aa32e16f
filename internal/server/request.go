package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5/middleware"
)

// requests gives every request an id and logs its answer. The id goes in the request's context (where
// middleware.GetReqID finds it, for logs and problem documents) and in the answer's X-Request-Id header: the
// client's own X-Request-Id when it is 1 to 200 visible ASCII characters, else "host/random-000123". The answer is
// logged at debug level, or at warn level when it is a 5xx; a record is built only when the logger keeps it.
//
// It runs on every read of the status page, so it costs one allocation besides the id and the request's copy: the
// context, the status recorder and the header value share it.
func requests(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := ""
			if v := r.Header["X-Request-Id"]; len(v) == 1 && visibleASCII(v[0], 200) {
				id = v[0]
			} else {
				id = newRequestID()
			}
			st := &requestState{ctx: idContext{Context: r.Context(), id: id}, w: statusWriter{ResponseWriter: w}}
			st.header[0] = id
			w.Header()["X-Request-Id"] = st.header[:]
			next.ServeHTTP(&st.w, r.WithContext(&st.ctx))

			status := st.w.status
			if status == 0 { // the handler wrote nothing: net/http answers 200
				status = http.StatusOK
			}
			level := slog.LevelDebug
			if status >= 500 {
				level = slog.LevelWarn
			}
			if !logger.Enabled(r.Context(), level) {
				return
			}
			logger.LogAttrs(r.Context(), level, "request", slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Int("status", status), slog.Int("bytes", st.w.bytes),
				slog.Duration("duration", time.Since(start)), slog.String("request_id", id))
		})
	}
}

// requestState is what requests keeps of one request, in one allocation.
type requestState struct {
	ctx    idContext
	w      statusWriter
	header [1]string // the X-Request-Id header's value
}

// idContext is a request's context with its id, as middleware.RequestID would store it.
type idContext struct {
	context.Context
	id string
}

// Value implements context.Context.
func (c *idContext) Value(key any) any {
	if key == middleware.RequestIDKey {
		return c.id
	}
	return c.Context.Value(key)
}

// statusWriter records the status and size of an answer. Unwrap lets http.ResponseController reach the
// connection's writer (to flush a live stream, or set its deadlines).
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

// WriteHeader implements http.ResponseWriter; informational answers (1xx) are not the status.
func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write implements http.ResponseWriter.
func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += n
	return n, err
}

// ReadFrom keeps the connection's own io.ReaderFrom (sendfile for files) in reach of io.Copy.
func (w *statusWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(w.ResponseWriter, src)
	}
	w.bytes += int(n)
	return n, err
}

// Flush implements http.Flusher for handlers that assert it rather than use http.ResponseController.
func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap returns the connection's writer, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// requestIDPrefix makes this process's request ids unique among others': ten random characters (not the host
// name, which public answers must not reveal).
var requestIDPrefix = func() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
	return strings.NewReplacer("+", "", "/", "").Replace(base64.StdEncoding.EncodeToString(b[:]))[:10] + "-"
}()

var requestCount atomic.Uint64

// newRequestID is the prefix and the count of requests, at least six digits: "random-000123".
func newRequestID() string {
	var buf [96]byte
	b := append(buf[:0], requestIDPrefix...)
	n := requestCount.Add(1)
	for d := uint64(100000); d > 1 && n < d; d /= 10 {
		b = append(b, '0')
	}
	return string(strconv.AppendUint(b, n, 10))
}

func visibleASCII(s string, limit int) bool {
	if s == "" || len(s) > limit {
		return false
	}
	for i := range len(s) {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
