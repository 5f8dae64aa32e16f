// Package postgrestest gives each test a fresh, fully migrated PostgreSQL database of its own.
//
// The first call in a test binary sets up a server: the one MIM_TEST_DATABASE_URL points to, if
// set (its user needs CREATEDB), or else a private cluster started with pgembed in a temporary
// directory (in /dev/shm when that is a roomy RAM file system), tuned for speed rather than
// durability. There it creates a template database, migrated once, and each NewDatabase clones
// it, which takes about ten milliseconds.
//
// A package may call Main from its TestMain to stop the private cluster and remove its directory
// (or, with MIM_TEST_DATABASE_URL, drop the template) when its tests end:
//
//	func TestMain(m *testing.M) { postgrestest.Main(m) }
//
// Without Main everything still works: a small watcher process started with the private cluster
// stops it and removes its directory once the test binary has exited, however it exited. With
// MIM_TEST_DATABASE_URL and no Main, the template database is left behind on that server.
//
// Package postgres cannot import this package from its own (internal) tests, since this package
// imports it: its database tests belong in package postgres_test.
package postgrestest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/mimhq/mim/internal/pgembed"
	"github.com/mimhq/mim/internal/postgres"
)

// EnvDatabaseURL names the variable that points the tests at a PostgreSQL server of one's own.
const EnvDatabaseURL = "MIM_TEST_DATABASE_URL"

// serverSettings trade durability, which a test cluster does not need, for speed.
var serverSettings = map[string]string{
	"fsync":              "off",
	"synchronous_commit": "off",
	"full_page_writes":   "off",
	"wal_level":          "minimal",
	"max_wal_senders":    "0",
	"autovacuum":         "off",
	"jit":                "off",
	"shared_buffers":     "32MB",
	"max_connections":    "200",
}

// harness is the server, template and admin pool that the tests of one binary share.
type harness struct {
	once sync.Once
	err  error

	mu      sync.Mutex // guards the fields below against Main's teardown
	baseURL string     // a database on the server to connect to for CREATE and DROP DATABASE
	admin   *pgxpool.Pool
	// template is the migrated database each test's is cloned from, once created.
	template string
	// strategy is the CREATE DATABASE strategy clause: FILE_COPY is several times faster than
	// PostgreSQL 15's default WAL_LOG for small databases, and older servers have only that.
	strategy string
	version  int              // server_version_num
	cluster  *pgembed.Cluster // nil with MIM_TEST_DATABASE_URL
	dir      string           // holds the private cluster
}

// shared is package state because every test of a binary must reach the same server, and tests
// have no other common owner; Main is the only other thing that touches it.
var shared harness

// NewDatabase returns the URL of a new database with every migration applied, for this test alone.
// The database is dropped when the test ends; close what connects to it in an earlier t.Cleanup,
// or let the drop (WITH (FORCE)) end those connections.
func NewDatabase(t testing.TB) string {
	t.Helper()
	h := shared.get(t)
	return h.create(t, h.template)
}

// NewEmptyDatabase is NewDatabase without the migrations, for tests of the migrations themselves.
func NewEmptyDatabase(t testing.TB) string {
	t.Helper()
	return shared.get(t).create(t, "template0")
}

// NewPool returns a pool over a database from NewDatabase, closed when the test ends.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	databaseURL := NewDatabase(t)
	pool, err := pgxpool.New(context.Background(), databaseURL)
	if err != nil {
		t.Fatalf("postgrestest: pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Main runs the tests, then stops the private cluster and removes its directory, or drops the
// template from the MIM_TEST_DATABASE_URL server, and exits with the tests' status.
func Main(m *testing.M) {
	code := m.Run()
	if err := shared.teardown(); err != nil {
		fmt.Fprintf(os.Stderr, "postgrestest: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// get sets the harness up on first use and fails the test if that failed.
func (h *harness) get(t testing.TB) *harness {
	t.Helper()
	h.once.Do(func() {
		begin := time.Now()
		h.err = h.setup()
		if h.err == nil {
			t.Logf("postgrestest: server and template ready in %v", time.Since(begin).Round(time.Millisecond))
		}
	})
	if h.err != nil {
		t.Fatalf("postgrestest: %v", h.err)
	}
	return h
}

// setup starts or reaches the server and builds the template.
func (h *harness) setup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h.mu.Lock()
	defer h.mu.Unlock()

	if base := os.Getenv(EnvDatabaseURL); base != "" {
		h.baseURL = base
	} else if err := h.startCluster(ctx); err != nil {
		return err
	}

	admin, err := pgxpool.New(ctx, h.baseURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	h.admin = admin
	if err := admin.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&h.version); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if h.version >= 150000 {
		h.strategy = " STRATEGY FILE_COPY"
	}

	template := "mim_template_" + randomName()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{template}.Sanitize()+" TEMPLATE template0"); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	h.template = template
	if err := postgres.MigrateUp(ctx, withDatabase(h.baseURL, h.template)); err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	// A database cannot be cloned while anyone is connected to it: keep everyone out from now on.
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{h.template}.Sanitize()+" WITH ALLOW_CONNECTIONS false"); err != nil {
		return fmt.Errorf("seal template: %w", err)
	}
	return nil
}

// startCluster starts a private cluster in a new temporary directory, with a watcher that removes
// it after this process exits.
func (h *harness) startCluster(ctx context.Context) error {
	dir, err := os.MkdirTemp(clusterParent(), "mim-postgrestest-")
	if err != nil {
		return fmt.Errorf("temporary directory: %w", err)
	}
	h.dir = dir
	if os.Geteuid() == 0 {
		// As root the server runs as the postgres user, which must pass through this directory.
		if err := os.Chmod(dir, 0o711); err != nil {
			return fmt.Errorf("temporary directory: %w", err)
		}
	}
	if err := startReaper(dir); err != nil {
		_ = os.RemoveAll(dir)
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cluster, err := pgembed.OpenWithOptions(ctx, dir, logger, pgembed.Options{NoSync: true, Settings: serverSettings})
	if err != nil {
		return err
	}
	h.cluster = cluster
	h.baseURL = cluster.URL("postgres")
	return nil
}

// clusterParent returns where to put the private cluster: /dev/shm when it is a roomy RAM file
// system, since CREATE DATABASE copies a few hundred files and creating files on a disk file system
// costs several times more, and os.TempDir() otherwise. Docker gives containers a /dev/shm of only
// 64 MiB, hence the check for room.
func clusterParent() string {
	const shm, room = "/dev/shm", 1 << 30
	var st syscall.Statfs_t
	if err := syscall.Statfs(shm, &st); err == nil && st.Type == tmpfsMagic && st.Bavail*uint64(st.Bsize) >= room {
		if info, err := os.Stat(shm); err == nil && info.IsDir() && info.Mode().Perm()&0o003 == 0o003 {
			return shm
		}
	}
	return os.TempDir()
}

// tmpfsMagic is the file system type that statfs reports for tmpfs.
const tmpfsMagic = 0x01021994

// reaperScript waits for the process $1 to end, then shuts the server of cluster directory $2 down
// at once (SIGQUIT: its data is thrown away) and removes directory $3. A zombie counts as ended:
// kill -0 still succeeds on one until its parent reaps it.
const reaperScript = `
alive() {
	if [ -r "/proc/$1/stat" ]; then
		state=$(sed 's/^.*) //' "/proc/$1/stat")
		[ "${state%% *}" != Z ]
	else
		kill -0 "$1" 2>/dev/null
	fi
}
while alive "$1"; do sleep 1; done
pidfile="$2/postmaster.pid"
if [ -f "$pidfile" ]; then
	kill -QUIT "$(head -n 1 "$pidfile")" 2>/dev/null
	i=0
	while [ -f "$pidfile" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fi
rm -rf "$3"
`

// startReaper starts, in a session of its own so that no terminal signal reaches it, the watcher
// that cleans dir up after this process exits. Main usually gets there first.
func startReaper(dir string) error {
	cmd := exec.Command("/bin/sh", "-c", reaperScript, "mim-postgrestest-reaper",
		strconv.Itoa(os.Getpid()), filepath.Join(dir, "postgres"), dir)
	// No inherited stdout: `go test` waits for whoever holds the test binary's output open.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start cleanup watcher: %w", err)
	}
	// Nobody waits for it; it is reparented when this process exits.
	return cmd.Process.Release()
}

// create clones template into a new database that is dropped when the test ends.
func (h *harness) create(t testing.TB, template string) string {
	t.Helper()
	name := "test_" + randomName()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{template}.Sanitize() + h.strategy
	if _, err := h.admin.Exec(ctx, sql); err != nil {
		t.Fatalf("postgrestest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := h.drop(ctx, name); err != nil {
			t.Errorf("postgrestest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(h.baseURL, name)
}

// drop drops the database name, ending the connections to it.
func (h *harness) drop(ctx context.Context, name string) error {
	if h.version >= 140000 {
		// Connections the test just closed take a moment to end, and DROP DATABASE waits for them
		// 100 ms at a time; pg_terminate_backend with a timeout returns as soon as each has ended.
		_, err := h.admin.Exec(ctx, "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name)
		if err != nil {
			return err
		}
	}
	_, err := h.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// teardown undoes setup, if it ran.
func (h *harness) teardown() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	if h.admin != nil {
		if h.template != "" && h.cluster == nil {
			_, err := h.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{h.template}.Sanitize()+" WITH (FORCE)")
			errs = append(errs, err)
		}
		h.admin.Close()
		h.admin = nil
	}
	if h.cluster != nil {
		errs = append(errs, h.cluster.Close(ctx))
		h.cluster = nil
	}
	if h.dir != "" {
		errs = append(errs, os.RemoveAll(h.dir))
		h.dir = ""
	}
	h.template = ""
	return errors.Join(errs...)
}

// withDatabase returns databaseURL, a URL or a keyword/value string, naming database name instead.
func withDatabase(databaseURL, name string) string {
	if u, err := url.Parse(databaseURL); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		u.RawPath = ""
		return u.String()
	}
	return strings.TrimSpace(databaseURL) + " dbname=" + name // the last of a repeated keyword wins
}

// randomName returns 16 random hex digits, for database names no other test run uses.
func randomName() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}
