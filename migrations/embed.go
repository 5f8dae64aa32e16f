// Package migrations holds mim's SQL schema migrations, embedded in the binary.
package migrations

import "embed"

// FS holds the NNNNNN_name.up.sql / .down.sql files, in golang-migrate's naming.
//
//go:embed *.sql
var FS embed.FS
