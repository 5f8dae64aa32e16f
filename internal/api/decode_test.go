package api

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/workflow"
)

func TestDecodeRefusesWhatIsNotOneJSONObjectOfKnownFields(t *testing.T) {
	t.Parallel()
	cases := []struct {
		body string
		kind domain.ErrorKind
		code string
	}{
		{``, domain.ErrBadRequest, "invalid_json"},
		{`{name:"Test"}`, domain.ErrBadRequest, "invalid_json"},
		{`{"title":"a"}{"title":"b"}`, domain.ErrBadRequest, "invalid_json"},
		{`{"title":"a"`, domain.ErrBadRequest, "invalid_json"},
		{`[1]`, domain.ErrBadRequest, "invalid_json"},
		{`{"titel":"a"}`, domain.ErrInvalid, "validation_failed"},
		{`{"title":1}`, domain.ErrInvalid, "validation_failed"},
		{`{"scope":{"customers_affected":"many"}}`, domain.ErrInvalid, "validation_failed"},
	}
	for _, tc := range cases {
		var req declareRequest
		err := decodeBytes([]byte(tc.body), &req)
		require.Error(t, err, tc.body)
		e := domain.AsError(err)
		require.Equal(t, tc.kind, e.Kind, tc.body)
		require.Equal(t, tc.code, e.Code, tc.body)
	}
	var req declareRequest
	require.NoError(t, decodeBytes([]byte(` {"title":"ok","severity":"low","urgency":"low"} `), &req))
	require.Equal(t, "ok", req.Title)
}

// FuzzDecodeDeclare: whatever the bytes, decoding and validating a declaration never panics and every failure is a
// client error, never an internal one.
func FuzzDecodeDeclare(f *testing.F) {
	for _, s := range []string{
		`{"title":"EU control plane failure","components":["control-plane-eu"],"severity":"critical","urgency":"immediate","scope":{"regions":["eu"],"customers_affected":120,"global":false},"business_impact":["security_enforcement"],"detected_at":"2026-03-10T20:00:00+01:00"}`,
		`{name:"Test", status: 1}`, `{"detected_at":"07/11/2015 12:20"}`, `{"scope":null}`, `null`, `"x"`, `{"title":"\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req declareRequest
		err := decodeBytes(body, &req)
		if err != nil {
			k := domain.AsError(err).Kind
			if k != domain.ErrBadRequest && k != domain.ErrInvalid {
				t.Fatalf("decode error of kind %s for %q: %v", k, body, err)
			}
			return
		}
		var v domain.Validator
		parseTime(&v, "detected_at", req.DetectedAt)
		parseTime(&v, "impact_started_at", req.ImpactStartedAt)
		workflow.ValidateCriteria(&v, req.criteria())
		if err := v.Err(); err != nil && domain.AsError(err).Kind != domain.ErrInvalid {
			t.Fatalf("validation error of kind %s: %v", domain.AsError(err).Kind, err)
		}
	})
}
