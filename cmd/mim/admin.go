package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/config"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/drill"
	"github.com/mimhq/mim/internal/postgres"
)

func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	steps := 1
	cfg, rest, err := config.Load("migrate", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&steps, "steps", 1, "with down: how many migrations to undo (0: all)")
	})
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("usage: mim migrate up|down|version")
	}
	url, closeDB, err := database(ctx, cfg, cliLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer closeDB()
	switch rest[0] {
	case "up":
		if err := postgres.MigrateUp(ctx, url); err != nil {
			return err
		}
	case "down":
		if err := postgres.MigrateDown(ctx, url, steps); err != nil {
			return err
		}
	case "version":
	default:
		return fmt.Errorf("usage: mim migrate up|down|version")
	}
	v, dirty, err := postgres.MigrateVersion(ctx, url)
	if err != nil {
		return err
	}
	latest, _ := postgres.LatestMigration()
	fmt.Fprintf(stdout, "schema version %d (latest %d)%s\n", v, latest, map[bool]string{true: ", dirty"}[dirty])
	return nil
}

const userUsage = "usage: mim user create --email E --name N --role admin|responder|viewer [--password-stdin]\n" +
	"       mim user password --email E   (reads the new password from standard input)"

func userCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "password") {
		return errors.New(userUsage)
	}
	var email, name, role string
	var pwStdin bool
	cfg, _, err := config.Load("user "+args[0], args[1:], getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the user's email address")
		if args[0] == "create" {
			fs.StringVar(&name, "name", "", "the user's name")
			fs.StringVar(&role, "role", "responder", "admin, responder or viewer")
			fs.BoolVar(&pwStdin, "password-stdin", false, "read a password for the web UI from standard input")
		}
	})
	if err != nil {
		return err
	}
	var password string
	if pwStdin || args[0] == "password" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
		if password == "" {
			return fmt.Errorf("no password on standard input")
		}
	}
	return withDatabase(ctx, cfg, stderr, func(_ string, db *postgres.DB) error {
		accounts := account.NewService(postgres.NewAccountStore(db))
		if args[0] == "password" {
			// Setting a password signs the user out of every web session.
			if err := accounts.SetPassword(ctx, email, password); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "password set for %s; their web sessions were ended\n", account.NormalizeEmail(email))
			return nil
		}
		u, err := accounts.CreateUser(ctx,
			account.NewUser{Email: email, Name: name, Role: domain.OrgRole(role), Password: password})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s user %s (%s)\n", u.Role, u.Email, u.ID)
		return nil
	})
}

func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "revoke" {
		return tokenRevokeCmd(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: mim token create --user E [--name N] [--scopes read,write,admin] | mim token revoke --user E --name N")
	}
	var user, name, scopes string
	cfg, _, err := config.Load("token create", args[1:], getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&user, "user", "", "email or id of the user the token acts for")
		fs.StringVar(&name, "name", "cli", "a name to recognise the token by")
		fs.StringVar(&scopes, "scopes", "", "comma-separated scopes (default: all the user's role allows)")
	})
	if err != nil {
		return err
	}
	if user == "" {
		return fmt.Errorf("--user is required")
	}
	var sc []string
	for _, s := range strings.Split(scopes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			sc = append(sc, s)
		}
	}
	return withDatabase(ctx, cfg, stderr, func(_ string, db *postgres.DB) error {
		plain, _, err := account.NewService(postgres.NewAccountStore(db)).CreateToken(ctx, user, name, sc)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, plain)
		return nil
	})
}

// tokenRevokeCmd revokes every live token of a user with a name: what `make drill` does with the token it made.
func tokenRevokeCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var user, name string
	cfg, _, err := config.Load("token revoke", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&user, "user", "", "email or id of the user whose tokens to revoke")
		fs.StringVar(&name, "name", "", "the name of the tokens to revoke")
	})
	if err != nil {
		return err
	}
	if user == "" || name == "" {
		return fmt.Errorf("--user and --name are required")
	}
	return withDatabase(ctx, cfg, stderr, func(_ string, db *postgres.DB) error {
		accounts := account.NewService(postgres.NewAccountStore(db))
		u, err := accounts.User(ctx, user)
		if err != nil {
			return err
		}
		tokens, err := accounts.Tokens(ctx)
		if err != nil {
			return err
		}
		n := 0
		for _, t := range tokens {
			if t.UserID == u.ID && t.Name == name && t.RevokedAt == nil {
				if err := accounts.RevokeToken(ctx, t.ID); err != nil {
					return err
				}
				n++
			}
		}
		fmt.Fprintf(stdout, "revoked %d token(s) named %q of %s\n", n, name, u.Email)
		return nil
	})
}

func drillCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("drill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", envOr(getenv, "MIM_URL", "http://127.0.0.1:8080"), "base URL of the running mim (MIM_URL)")
	token := fs.String("token", getenv("MIM_TOKEN"), "an admin API token (MIM_TOKEN)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *token == "" {
		return fmt.Errorf("an admin token is needed: --token or MIM_TOKEN (mim token create --user admin@example.com)")
	}
	return drill.Run(ctx, drill.Options{BaseURL: *url, Token: *token, Out: stdout})
}

func envOr(getenv func(string) string, k, def string) string {
	if v := getenv(k); v != "" {
		return v
	}
	return def
}
