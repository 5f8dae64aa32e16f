//go:build ignore

// Command barehttp is the yardstick of `make bench`: a bare net/http server that answers with bytes fetched once
// from a running mim, so wrk can compare mim's public endpoints with the least a Go server can do for the same
// response. It knows nothing of mim: it copies each path's status, headers (except Date) and body, as gzip when
// asked to, and serves them from memory. Loopback only.
//
//	go run scripts/barehttp/main.go -from http://127.0.0.1:8080 -addr 127.0.0.1:8081 / /api/v2/summary.json
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"
)

type response struct {
	header http.Header
	body   []byte
}

func main() {
	from := flag.String("from", "http://127.0.0.1:8080", "the running mim to copy responses from (loopback)")
	addr := flag.String("addr", "127.0.0.1:8081", "listen address (loopback)")
	encoding := flag.String("accept-encoding", "gzip", "Accept-Encoding sent when fetching; empty for identity")
	flag.Parse()
	if !loopback(*from) || !loopback("http://"+*addr) {
		log.Fatal("barehttp: loopback addresses only")
	}
	paths := flag.Args()
	if len(paths) == 0 {
		paths = []string{"/"}
	}
	// Identity transport: the body is kept exactly as it came, compressed or not.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	responses := map[string]response{}
	for _, p := range paths {
		req, err := http.NewRequest(http.MethodGet, *from+p, nil)
		if err != nil {
			log.Fatal(err)
		}
		if *encoding != "" {
			req.Header.Set("Accept-Encoding", *encoding)
		}
		resp, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			log.Fatalf("barehttp: GET %s: %d %v", p, resp.StatusCode, err)
		}
		h := resp.Header.Clone()
		h.Del("Date")
		responses[p] = response{header: h, body: body}
	}
	mux := http.NewServeMux()
	for p, r := range responses {
		pattern := "GET " + p
		if p == "/" {
			pattern = "GET /{$}"
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, _ *http.Request) {
			h := w.Header()
			for k, v := range r.header {
				h[k] = v
			}
			_, _ = w.Write(r.body)
		})
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "barehttp serving %d paths on http://%s\n", len(responses), ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}

func loopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())
}
