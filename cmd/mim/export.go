package main

import (
	"context"
	"fmt"
	"io"

	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/postgres"
)

const exportUsage = "usage: mim export static [flags] DIR"

// exportCmd writes the public status page as static files: `mim export static DIR`. The files are those `mim serve`
// answers with for the same state, byte for byte, so a separate host or CDN serving DIR shows the same page when
// mim's own host is down. Run it after each change (from cron, or a deploy hook) to keep the copy current.
func exportCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "static" {
		return fmt.Errorf("%s (writes index.html, static/, api/v2/*.json, badges, history, feeds and permalinks)", exportUsage)
	}
	cfg, rest, err := config.Load("export static", args[1:], getenv, stderr, nil)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%s: give one directory", exportUsage)
	}
	dir := rest[0]
	return withDatabase(ctx, cfg, stderr, func(_ string, db *postgres.DB) error {
		sp, err := app.NewStatusPage(cfg, db, cliLogger(cfg, stderr))
		if err != nil {
			return err
		}
		res, err := sp.Export(ctx, dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %d files to %s\n", len(res.Files), dir)
		for _, s := range res.Skipped {
			fmt.Fprintf(stdout, "  not exported: %s\n", s)
		}
		return nil
	})
}
