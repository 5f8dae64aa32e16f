// Package docs embeds the API description that mim serves at /openapi.yaml.
package docs

import _ "embed"

// OpenAPI is docs/openapi.yaml, the OpenAPI 3.1 description of mim's HTTP API.
//
//go:embed openapi.yaml
var OpenAPI []byte
