package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/importer"
	"github.com/mimhq/mim/internal/postgres"
)

const importUsage = "usage: mim import statuspage [flags] FILE..."

// importCmd imports Statuspage v2 JSON exports. Every file is read and parsed before the database is touched; each
// is then imported in its own transaction, so a file that fails leaves nothing of itself behind, and importing a
// file again creates nothing new.
func importCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "statuspage" {
		return fmt.Errorf("%s (Statuspage v2 JSON: summary.json, incidents.json, components.json)", importUsage)
	}
	cfg, files, err := config.Load("import statuspage", args[1:], getenv, stderr, nil)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("%s: no file given", importUsage)
	}
	docs := make([]*importer.Document, len(files))
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if docs[i], err = importer.Parse(data); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	return withDatabase(ctx, cfg, stderr, func(_ string, db *postgres.DB) error {
		im := importer.New(postgres.NewImportStore(db))
		var total importer.Result
		for i, doc := range docs {
			res, err := im.Import(ctx, doc)
			if err != nil {
				return fmt.Errorf("%s: %w", files[i], err)
			}
			fmt.Fprintf(stdout, "%s (%s of %s): %s\n", files[i], doc.Kind, describePage(doc.Page), res)
			for _, w := range res.Warnings {
				fmt.Fprintf(stdout, "  warning: %s\n", w)
			}
			total.Add(res)
		}
		if len(docs) > 1 {
			fmt.Fprintf(stdout, "total: %s\n", total)
		}
		return nil
	})
}

func describePage(p importer.Page) string {
	if p.Name == "" {
		return "page " + p.ID
	}
	return fmt.Sprintf("%s, page %s", p.Name, p.ID)
}
