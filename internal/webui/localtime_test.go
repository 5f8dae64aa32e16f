package webui

import (
	"testing"
	"time"
)

func TestLocalTimeOfTheDeclareForm(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]string{
		"2026-03-29T02:30": "error",                // skipped by the spring change
		"2026-10-25T02:30": "2026-10-25T00:30:00Z", // repeated: the first, summer-time reading
		"2026-06-01T10:00": "2026-06-01T08:00:00Z",
		"2026-12-31T10:00": "error", // the future
		"1970-01-01T00:30": "error", // 1969 in UTC
		"soon":             "error",
	} {
		got, err := localTime(v, berlin, now)
		switch {
		case want == "error" && err == nil:
			t.Errorf("%s: want an error, got %s", v, got)
		case want != "error" && (err != nil || got.UTC().Format(time.RFC3339) != want):
			t.Errorf("%s: want %s, got %v, %v", v, want, got, err)
		}
	}
}
