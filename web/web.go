// Package web holds mim's templ components, the view models they render, and the static assets they link.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var staticFiles embed.FS

// Static holds the static assets (the files under web/static), served by the caller under /static/.
var Static fs.FS = func() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // "static" is a valid path: fs.Sub cannot fail here
	}
	return sub
}()
