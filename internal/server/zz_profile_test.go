package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/mimhq/mim/internal/api"
	"github.com/mimhq/mim/internal/statuspage"
)

func TestZZProfileServe(t *testing.T) {
	if os.Getenv("ZZ_PROFILE") == "" {
		t.Skip()
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	sp := statuspage.New(fixedSource{}, statuspage.Page{ID: "b", Name: "Bench", URL: "http://x", Location: time.UTC}, logger)
	_ = sp.Refresh(context.Background())
	var h http.Handler = New(Deps{API: &api.API{Logger: logger}, StatusPage: sp, Ready: func(context.Context) error { return nil }, Logger: logger})
	if os.Getenv("ZZ_BARE") != "" {
		snap, _ := sp.Current(context.Background())
		body := snap.SummaryJSON.Gzip
		hdr := http.Header{}
		rec := &nullWriter{h: hdr}
		req, _ := http.NewRequest("GET", "/api/v2/summary.json", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		h.ServeHTTP(rec, req)
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			wh := w.Header()
			for k, v := range hdr {
				wh[k] = v
			}
			w.Write(body)
		})
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	if os.Getenv("ZZ_NOTIMEOUT") != "" {
		srv = &http.Server{Handler: h}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:8093")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	f, _ := os.Create(os.Getenv("ZZ_PROFILE"))
	time.Sleep(3 * time.Second)
	pprof.StartCPUProfile(f)
	time.Sleep(10 * time.Second)
	pprof.StopCPUProfile()
	f.Close()
	srv.Close()
}
