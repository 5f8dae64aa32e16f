package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mimhq/mim/internal/postgrestest"
)

func TestMain(m *testing.M) {
	// The crash test runs this binary as a real `mim serve` child process.
	if os.Getenv("MIM_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	postgrestest.Main(m)
}

// `mim import statuspage` over every real export prints what it created, and the second time that it created
// nothing and skipped everything.
func TestImportStatuspageCommandTwice(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../../../shared/cases/statuspage/*.json")
	if len(files) == 0 {
		t.Skip("no Statuspage cases beside the repository")
	}
	env := getenv(map[string]string{"MIM_DATABASE_URL": postgrestest.NewDatabase(t)})
	importAll := func() string {
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), append([]string{"import", "statuspage"}, files...), env, nil,
			&out, io.Discard))
		t.Log(out.String())
		return out.String()
	}
	first := importAll()
	require.Contains(t, first, "personio-incidents-2024-01-31.json (incidents.json of Personio SE & Co. KG, page 68kf6yfjnk2d): created 5 components, 50 incidents, 165 updates; skipped 0 components, 0 incidents, 0 updates")
	total := lastLine(first)
	require.True(t, strings.HasPrefix(total, "total: created "), total)

	second := lastLine(importAll())
	require.True(t, strings.HasPrefix(second, "total: created 0 components, 0 incidents, 0 updates; skipped "), second)
}

func TestImportStatuspageCommandRefusesBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	require.ErrorContains(t, run(ctx, []string{"import"}, getenv(nil), nil, io.Discard, io.Discard), "usage: mim import statuspage")
	require.ErrorContains(t, run(ctx, []string{"import", "statuspage"}, getenv(nil), nil, io.Discard, io.Discard), "no file given")
	require.ErrorContains(t, run(ctx, []string{"import", "statuspage", filepath.Join(dir, "missing.json")}, getenv(nil), nil,
		io.Discard, io.Discard), "missing.json")
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
