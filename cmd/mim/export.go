package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/mimhq/mim/internal/api"
	"github.com/mimhq/mim/internal/app"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/postgres"
)

const exportUsage = "usage: mim export static [flags] DIR | mim export evidence [--format md|json] KEY"

// exportCmd writes the public status page as static files: `mim export static DIR`. The files are those `mim serve`
// answers with for the same state, byte for byte, so a separate host or CDN serving DIR shows the same page when
// mim's own host is down. Run it after each change (from cron, or a deploy hook) to keep the copy current.
func exportCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "evidence" {
		return exportEvidence(ctx, args[1:], getenv, stdout, stderr)
	}
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

// exportEvidence writes one incident's evidence for an auditor to stdout: `mim export evidence [--format md] KEY`,
// the same document as GET /api/v1/incidents/{id}/evidence.
func exportEvidence(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var format string
	cfg, rest, err := config.Load("export evidence", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", "md", "md (Markdown) or json")
	})
	if err != nil {
		return err
	}
	if len(rest) != 1 || (format != "md" && format != "json") {
		return fmt.Errorf("%s: give one incident key, and --format md or json", exportUsage)
	}
	return withDatabase(ctx, cfg, stderr, func(_ string, db *postgres.DB) error {
		a := &api.API{Incidents: incident.NewService(postgres.NewIncidentStore(db), nil, nil),
			PostIncident: postgres.NewPostIncidentStore(db, cfg.TimeZone)}
		ev, err := a.Evidence(ctx, rest[0])
		if err != nil {
			return err
		}
		if format == "md" {
			_, err = io.WriteString(stdout, ev.Markdown())
			return err
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ev)
	})
}
