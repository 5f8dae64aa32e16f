// Command mim is the Major Incident Management service: `mim serve` runs it; the other subcommands administer it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mimhq/mim/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, config.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mim:", err)
		os.Exit(1)
	}
}

const usage = `mim — Major Incident Management

Usage:
  mim serve                      run the server (embedded PostgreSQL when MIM_DATABASE_URL is empty)
  mim migrate up|down|version    manage the database schema
  mim user create --email E --name N --role admin|responder|viewer [--password-stdin]
  mim user password --email E   (the new web UI password on standard input)
  mim token create --user E [--name N] [--scopes read,write,admin]
                                 print a new API token, once
  mim token revoke --user E --name N
                                 revoke every live token of a user with that name
  mim drill [--url U] [--token T] run a complete major incident through the REST API of a running mim
  mim import statuspage FILE...  import components and incident history from Statuspage v2 JSON exports
                                 (summary.json, incidents.json, components.json); importing again adds nothing
  mim export static DIR          write the public status page, its JSON, badges, history and feeds as files,
                                 for a separate host or CDN to serve (serve DIR at the root of that host)
  mim export evidence KEY        print one incident's evidence for an auditor (--format md or json): its
                                 classification, every timeline event, communications, PIR, RCA and actions
  mim version                    print the version

Every command reads the same configuration (flags or MIM_* environment); run 'mim serve -h' to list it.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// run is the whole program, with its environment passed in so tests can run it too.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, rest, getenv, stdout, stderr)
	case "user":
		return userCmd(ctx, rest, getenv, stdin, stdout, stderr)
	case "token":
		return tokenCmd(ctx, rest, getenv, stdout, stderr)
	case "drill":
		return drillCmd(ctx, rest, getenv, stdout, stderr)
	case "import":
		return importCmd(ctx, rest, getenv, stdout, stderr)
	case "export":
		return exportCmd(ctx, rest, getenv, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "mim", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
