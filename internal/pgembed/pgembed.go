// Package pgembed runs a private PostgreSQL cluster for mim when no MIM_DATABASE_URL is given.
//
// The cluster lives in <dataDir>/postgres. It is created with initdb on first use, started with pg_ctl,
// and reached over a Unix socket only (listen_addresses is empty), with trust authentication for the
// superuser "mim": only the owner of the socket directory (mode 0700) and root can connect.
//
// Several mim processes may open the same data directory, for example `mim serve` and a CLI command
// run beside it: a lock file serialises creation, start and stop, and a process that finds the
// server already running uses it and leaves it running when it closes.
//
// PostgreSQL refuses to run as root. When mim runs as root, initdb, pg_ctl and so the server run as
// the OS user "postgres", which owns <dataDir>/postgres and must be able to reach it.
package pgembed

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrBinariesNotFound is returned when no directory holds the PostgreSQL server programs.
var ErrBinariesNotFound = errors.New("PostgreSQL server binaries not found (initdb, pg_ctl): " +
	"install the Debian package postgresql (apt-get install postgresql) or set MIM_DATABASE_URL")

const (
	// superuser is the role initdb creates; trust authentication is safe because only the socket's
	// owner can reach it.
	superuser = "mim"
	// DefaultDatabase is the database Open makes sure exists, the one mim keeps its data in.
	DefaultDatabase = "mim"
	// port only names the socket file (.s.PGSQL.5432): the server listens on no TCP port.
	port = 5432
	// maxSocketPath is the longest socket path the kernel accepts: sun_path is 108 bytes with its NUL.
	maxSocketPath = 107
	// socketFile is the name of the server's socket inside its socket directory.
	socketFile = ".s.PGSQL.5432"
	// serverUser is the OS user that runs PostgreSQL when mim runs as root.
	serverUser = "postgres"
	// confFile is the settings file mim rewrites at each start, included from postgresql.conf.
	confFile = "mim.conf"
	// pgCtlTimeout bounds, in seconds, how long pg_ctl waits for the server to start or stop.
	pgCtlTimeout = "120"
	// closeTimeout bounds Close when its context has already ended.
	closeTimeout = 3 * time.Minute
)

// includeLine is appended to postgresql.conf so that mim.conf is read; postgresql.auto.conf, read
// after it, still wins, so ALTER SYSTEM keeps working.
const includeLine = "include_if_exists = '" + confFile + "'"

// settingName is what a server setting's name may look like.
var settingName = regexp.MustCompile(`^[a-z][a-z0-9_.]*$`)

// Options adjust how Open creates and starts a cluster. The zero value suits `mim serve`.
type Options struct {
	// Settings are extra server settings, by postgresql.conf name, applied when this Open starts the
	// server. A server found already running keeps the settings it was started with.
	Settings map[string]string
	// NoSync makes initdb skip flushing the new cluster to disk: faster, for throwaway clusters only.
	NoSync bool
	// BinDir is the directory holding initdb, pg_ctl and postgres; empty means FindBinaries, or the
	// binaries of the cluster's own major version when the cluster exists.
	BinDir string
}

// Cluster is a PostgreSQL server over a data directory, opened with Open and released with Close.
// Its methods are safe for concurrent use.
type Cluster struct {
	dataDir   string
	pgdata    string
	binDir    string
	logger    *slog.Logger
	runAs     *syscall.Credential // nil: the server runs as this process's user
	socketDir string
	port      int
	started   bool // this Cluster started the server, so Close stops it

	mu     sync.Mutex
	closed bool
}

// FindBinaries returns the directory holding initdb, pg_ctl and postgres: the one found on PATH if
// any, else the highest version under /usr/lib/postgresql/*/bin. It returns ErrBinariesNotFound
// when there is none.
func FindBinaries() (string, error) {
	dirs := candidateBinDirs()
	if len(dirs) == 0 {
		return "", ErrBinariesNotFound
	}
	return dirs[0], nil
}

// candidateBinDirs lists, best first, every directory that holds the three server programs.
func candidateBinDirs() []string {
	var dirs []string
	add := func(dir string) {
		if !slices.Contains(dirs, dir) && hasBinaries(dir) {
			dirs = append(dirs, dir)
		}
	}
	for _, name := range []string{"initdb", "pg_ctl"} {
		if p, err := exec.LookPath(name); err == nil {
			// pg_ctl finds postgres beside itself, so follow symlinks such as /usr/local/bin/initdb.
			if real, err := filepath.EvalSymlinks(p); err == nil {
				add(filepath.Dir(real))
			}
		}
	}
	versioned, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(dir string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		return v
	}
	slices.SortFunc(versioned, func(a, b string) int {
		va, vb := version(a), version(b)
		switch {
		case va > vb:
			return -1
		case va < vb:
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, dir := range versioned {
		add(dir)
	}
	return dirs
}

// hasBinaries reports whether dir holds executable initdb, pg_ctl and postgres.
func hasBinaries(dir string) bool {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil || info.IsDir() || info.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// Open makes sure the cluster in <dataDir>/postgres exists and runs, and that the database "mim"
// exists in it. It creates dataDir if needed; when it does so as root it gives the directory mode
// 0711, so that the postgres user can reach the cluster inside. A nil logger discards.
func Open(ctx context.Context, dataDir string, logger *slog.Logger) (*Cluster, error) {
	return OpenWithOptions(ctx, dataDir, logger, Options{})
}

// OpenWithOptions is Open with settings for how the cluster is created and started.
func OpenWithOptions(ctx context.Context, dataDir string, logger *slog.Logger, opts Options) (*Cluster, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	for name := range opts.Settings {
		if !settingName.MatchString(name) {
			return nil, fmt.Errorf("pgembed: invalid server setting name %q", name)
		}
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("pgembed: data directory %s: %w", dataDir, err)
	}
	runAs, err := serverCredential()
	if err != nil {
		return nil, err
	}
	if err := ensureDataDir(abs, runAs != nil); err != nil {
		return nil, err
	}
	c := &Cluster{
		dataDir: abs,
		pgdata:  filepath.Join(abs, "postgres"),
		logger:  logger.With("pgdata", filepath.Join(abs, "postgres")),
		runAs:   runAs,
		port:    port,
	}

	unlock, err := lockFile(ctx, c.lockPath())
	if err != nil {
		return nil, err
	}
	defer unlock()

	if err := c.open(ctx, opts); err != nil {
		return nil, err
	}
	return c, nil
}

// open does Open's work while holding the lock file.
func (c *Cluster) open(ctx context.Context, opts Options) error {
	binDir := opts.BinDir
	if binDir == "" {
		var err error
		if binDir, err = c.chooseBinaries(ctx); err != nil {
			return err
		}
	}
	c.binDir = binDir
	if err := c.checkReachable(ctx); err != nil {
		return err
	}

	if _, err := os.Stat(filepath.Join(c.pgdata, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		if err := c.initdb(ctx, opts.NoSync); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}

	running, err := c.running(ctx)
	if err != nil {
		return err
	}
	if running {
		if err := c.adopt(ctx); err != nil {
			return err
		}
		// A server whose owner is gone (a mim killed with -9) is taken over, so it stops with this process.
		if !ownerAlive(c.ownerPath()) {
			c.started = true
			c.logger.Info("took over the PostgreSQL server left running by a process that is gone", "socket_dir", c.socketDir)
		} else {
			c.logger.Info("using the PostgreSQL server already running", "socket_dir", c.socketDir)
		}
	} else {
		begin := time.Now()
		if err := c.start(ctx, opts.Settings); err != nil {
			return err
		}
		c.started = true
		c.logger.Info("started PostgreSQL", "socket_dir", c.socketDir, "took", time.Since(begin).Round(time.Millisecond))
	}
	if c.started {
		if err := os.WriteFile(c.ownerPath(), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
			return fmt.Errorf("pgembed: record owner: %w", err)
		}
	}

	if err := c.ensureDatabase(ctx); err != nil {
		if c.started {
			if stopErr := c.stop(context.WithoutCancel(ctx)); stopErr != nil {
				err = errors.Join(err, stopErr)
			}
			c.started = false
		}
		return err
	}
	return nil
}

// URL returns a connection URL for database dbname over the cluster's Unix socket, for pgx.
func (c *Cluster) URL(dbname string) string {
	q := url.Values{}
	q.Set("host", c.socketDir)
	q.Set("port", strconv.Itoa(c.port))
	q.Set("sslmode", "disable")
	u := url.URL{Scheme: "postgres", User: url.User(superuser), Path: "/" + dbname, RawQuery: q.Encode()}
	return u.String()
}

// Close stops the server with a fast shutdown if this Cluster started it, and otherwise leaves it
// running for the process that did. Only the first call does anything. ctx bounds the wait; if it
// has already ended, as a shutdown path's context often has, Close still stops the server and
// gives up after closeTimeout.
func (c *Cluster) Close(ctx context.Context) error {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if !c.started {
		return nil
	}
	unlock, err := lockFile(ctx, c.lockPath())
	if err != nil {
		return err
	}
	defer unlock()
	running, err := c.running(ctx)
	if err != nil || !running {
		return err
	}
	return c.stop(ctx)
}

// stop shuts the server down with pg_ctl stop -m fast and waits for it to end.
func (c *Cluster) stop(ctx context.Context) error {
	if _, err := c.run(ctx, c.pgdata, "pg_ctl", "stop", "-D", c.pgdata, "-m", "fast", "-w", "-t", pgCtlTimeout, "-s"); err != nil {
		return err
	}
	c.logger.Info("stopped PostgreSQL")
	if c.socketDir != c.pgdata {
		// The server removed its socket; remove the directory made for it under os.TempDir().
		_ = os.Remove(c.socketDir)
	}
	return nil
}

func (c *Cluster) lockPath() string { return filepath.Join(c.dataDir, "postgres.lock") }

// ownerPath holds the pid of the process that will stop the server.
func (c *Cluster) ownerPath() string { return filepath.Join(c.dataDir, "postgres.owner") }

// ownerAlive reports whether the process recorded as the server's owner still runs.
func ownerAlive(path string) bool {
	raw, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// A zombie has exited but still answers kill(0).
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return false
		}
	}
	return true
}
func (c *Cluster) logPath() string { return filepath.Join(c.dataDir, "postgres.log") }

// serverCredential returns the identity to run PostgreSQL as: the postgres user when this process
// is root, since initdb and postgres refuse root, and nil, meaning this process's own, otherwise.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(serverUser)
	if err != nil {
		return nil, fmt.Errorf("pgembed: mim runs as root and PostgreSQL refuses to, so it runs the server as the OS user %q, "+
			"which was not found (%w): install the Debian package postgresql, which creates it, or set MIM_DATABASE_URL", serverUser, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgembed: uid of %s: %w", serverUser, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("pgembed: gid of %s: %w", serverUser, err)
	}
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	groups, err := u.GroupIds()
	if err != nil {
		return nil, fmt.Errorf("pgembed: groups of %s: %w", serverUser, err)
	}
	for _, g := range groups {
		id, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("pgembed: group of %s: %w", serverUser, err)
		}
		cred.Groups = append(cred.Groups, uint32(id))
	}
	return cred, nil
}

// ensureDataDir creates dir when it is missing: mode 0711 as root, so that the postgres user can
// pass through it, and 0700 otherwise.
func ensureDataDir(dir string, asRoot bool) error {
	info, err := os.Stat(dir)
	if err == nil {
		if !info.IsDir() {
			return fmt.Errorf("pgembed: data directory %s is not a directory", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pgembed: data directory: %w", err)
	}
	perm := fs.FileMode(0o700)
	if asRoot {
		perm = 0o711
	}
	if err := os.MkdirAll(dir, perm); err != nil {
		return fmt.Errorf("pgembed: create data directory: %w", err)
	}
	if err := os.Chmod(dir, perm); err != nil { // MkdirAll is subject to the umask
		return fmt.Errorf("pgembed: data directory: %w", err)
	}
	return nil
}

// lockFile takes an exclusive flock on path, waiting for it until ctx ends, and returns its release.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pgembed: lock file: %w", err)
	}
	fd := int(f.Fd())
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(fd, syscall.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("pgembed: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, fmt.Errorf("pgembed: waiting for lock %s: %w", path, ctx.Err())
		case <-ticker.C:
		}
	}
}

// chooseBinaries picks the server programs: for an existing cluster, the first candidate of the
// cluster's major version, since a server cannot open another major version's files.
func (c *Cluster) chooseBinaries(ctx context.Context) (string, error) {
	dirs := candidateBinDirs()
	if len(dirs) == 0 {
		return "", ErrBinariesNotFound
	}
	raw, err := os.ReadFile(filepath.Join(c.pgdata, "PG_VERSION"))
	if errors.Is(err, fs.ErrNotExist) {
		return dirs[0], nil
	}
	if err != nil {
		return "", fmt.Errorf("pgembed: %w", err)
	}
	want := strings.TrimSpace(string(raw))
	var found []string
	for _, dir := range dirs {
		out, err := exec.CommandContext(ctx, filepath.Join(dir, "pg_ctl"), "--version").Output()
		if err != nil {
			continue
		}
		got := majorVersion(string(out))
		if got == want {
			return dir, nil
		}
		found = append(found, got)
	}
	return "", fmt.Errorf("pgembed: the cluster in %s was created by PostgreSQL %s, but only PostgreSQL %s binaries were found: "+
		"install postgresql-%s, or upgrade the cluster with pg_upgrade", c.pgdata, want, strings.Join(found, ", "), want)
}

// majorVersion turns `pg_ctl (PostgreSQL) 15.18 (Debian ...)` into "15", and 9.6.24 into "9.6",
// the form PG_VERSION uses.
func majorVersion(versionOutput string) string {
	_, rest, _ := strings.Cut(versionOutput, ") ")
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return ""
	}
	version := fields[0]
	// Development versions read like 17beta1 or 18devel.
	if i := strings.IndexFunc(version, func(r rune) bool { return r != '.' && (r < '0' || r > '9') }); i >= 0 {
		version = version[:i]
	}
	parts := strings.Split(version, ".")
	if n, err := strconv.Atoi(parts[0]); err == nil && n < 10 && len(parts) > 1 {
		return parts[0] + "." + parts[1]
	}
	return parts[0]
}

// checkReachable makes sure the server's user can enter the data directory, since it must reach
// the cluster inside, and names the directory in the way if not.
func (c *Cluster) checkReachable(ctx context.Context) error {
	if c.runAs == nil {
		return nil
	}
	// The child changes to cmd.Dir after taking the postgres identity, so this is the kernel's answer.
	err := c.command(ctx, c.dataDir, "pg_ctl", "--version").Run()
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("pgembed: run pg_ctl as %s: %w", serverUser, err)
	}
	blocker := c.dataDir
	detail := ""
	for dir := c.dataDir; ; dir = filepath.Dir(dir) {
		if info, err := os.Stat(dir); err == nil && !canSearch(info, c.runAs) {
			blocker = dir
			detail = fmt.Sprintf(" (mode %04o, owner uid %d)", info.Mode().Perm(), info.Sys().(*syscall.Stat_t).Uid)
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	return fmt.Errorf("pgembed: PostgreSQL refuses to run as root, so mim runs it as the OS user %q, which cannot reach %s: "+
		"it lacks search (x) permission on %s%s; set MIM_DATA_DIR to a directory it can reach (such as /var/lib/mim), "+
		"allow it through (chmod o+x %s), or set MIM_DATABASE_URL to use a PostgreSQL server of your own",
		serverUser, c.dataDir, blocker, detail, blocker)
}

// canSearch reports whether cred may pass through the directory described by info, by its mode bits.
func canSearch(info fs.FileInfo, cred *syscall.Credential) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	mode := info.Mode().Perm()
	switch {
	case st.Uid == cred.Uid:
		return mode&0o100 != 0
	case st.Gid == cred.Gid || slices.Contains(cred.Groups, st.Gid):
		return mode&0o010 != 0
	}
	return mode&0o001 != 0
}

// command prepares one of the server programs, run as the server's user with a clean environment.
func (c *Cluster) command(ctx context.Context, dir, program string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, program), args...)
	cmd.Dir = dir
	// PGPORT, PGDATA and friends would change what the programs do.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "PG") })
	if c.runAs != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.runAs}
	}
	return cmd
}

// run runs a server program and returns its output, which an error includes.
func (c *Cluster) run(ctx context.Context, dir, program string, args ...string) (string, error) {
	out, err := c.command(ctx, dir, program, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("pgembed: %s %s: %w: %s", program, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// chown gives path to the server's user when the server runs as another user.
func (c *Cluster) chown(path string) error {
	if c.runAs == nil {
		return nil
	}
	if err := os.Lchown(path, int(c.runAs.Uid), int(c.runAs.Gid)); err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	return nil
}

// initdb creates the cluster in a scratch directory and renames it into place, so that a crash
// part way leaves no half-made cluster behind.
func (c *Cluster) initdb(ctx context.Context, noSync bool) error {
	if entries, err := os.ReadDir(c.pgdata); err == nil {
		if len(entries) > 0 {
			return fmt.Errorf("pgembed: %s is not empty but holds no PostgreSQL cluster (no PG_VERSION): move it away", c.pgdata)
		}
		if err := os.Remove(c.pgdata); err != nil {
			return fmt.Errorf("pgembed: %w", err)
		}
	}
	scratch := c.pgdata + ".initdb"
	begin := time.Now()
	// Byte-order collation needs nothing from the C library that could change under the indexes;
	// C.UTF-8 character classes keep lower() and upper() right beyond ASCII.
	locales := [][]string{{"--locale=C", "--lc-ctype=C.UTF-8"}, {"--locale=C"}}
	var err error
	for _, locale := range locales {
		if err = c.makeScratch(scratch); err != nil {
			return err
		}
		args := []string{"-D", scratch, "-U", superuser, "--auth=trust", "-E", "UTF8", "--no-instructions"}
		args = append(args, locale...)
		if noSync {
			args = append(args, "--no-sync")
		}
		var out string
		out, err = c.run(ctx, scratch, "initdb", args...)
		if err == nil || !strings.Contains(out, "C.UTF-8") {
			break
		}
		c.logger.Warn("locale C.UTF-8 unavailable: creating the cluster with locale C", "initdb", strings.TrimSpace(out))
	}
	if err != nil {
		_ = os.RemoveAll(scratch)
		return err
	}
	conf, err := os.OpenFile(filepath.Join(scratch, "postgresql.conf"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	_, err = fmt.Fprintf(conf, "\n# Added by mim: the settings mim manages, rewritten at each start.\n%s\n", includeLine)
	if closeErr := conf.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("pgembed: postgresql.conf: %w", err)
	}
	if err := os.Rename(scratch, c.pgdata); err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	if d, err := os.Open(c.dataDir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	c.logger.Info("created PostgreSQL cluster", "took", time.Since(begin).Round(time.Millisecond))
	return nil
}

// makeScratch makes an empty directory for initdb, owned by the server's user.
func (c *Cluster) makeScratch(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	return c.chown(dir)
}

// running reports whether a server runs on the cluster, by pg_ctl status, which treats a
// postmaster.pid whose process is gone as stale.
func (c *Cluster) running(ctx context.Context) (bool, error) {
	if _, err := os.Stat(filepath.Join(c.pgdata, "postmaster.pid")); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	_, err := c.run(ctx, c.pgdata, "pg_ctl", "status", "-D", c.pgdata)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && exit.ExitCode() == 3: // "no server running"
		return false, nil
	}
	return false, err
}

// pidFile is what postmaster.pid says about a running server.
type pidFile struct {
	pid       int
	port      int
	socketDir string
}

// readPIDFile reads the server's postmaster.pid: PID, data directory, start time, port, first socket
// directory, listen address, shared memory key and status, a line each.
func (c *Cluster) readPIDFile() (pidFile, error) {
	raw, err := os.ReadFile(filepath.Join(c.pgdata, "postmaster.pid"))
	if err != nil {
		return pidFile{}, fmt.Errorf("pgembed: %w", err)
	}
	var lines []string
	for s := bufio.NewScanner(bytes.NewReader(raw)); s.Scan(); {
		lines = append(lines, strings.TrimSpace(s.Text()))
	}
	if len(lines) < 5 {
		return pidFile{}, fmt.Errorf("pgembed: postmaster.pid in %s is incomplete", c.pgdata)
	}
	var pf pidFile
	if pf.pid, err = strconv.Atoi(lines[0]); err != nil {
		return pidFile{}, fmt.Errorf("pgembed: postmaster.pid: pid: %w", err)
	}
	if pf.port, err = strconv.Atoi(lines[3]); err != nil {
		return pidFile{}, fmt.Errorf("pgembed: postmaster.pid: port: %w", err)
	}
	pf.socketDir = lines[4]
	return pf, nil
}

// adopt takes the socket of a server that is already running and checks that it answers.
func (c *Cluster) adopt(ctx context.Context) error {
	pf, err := c.readPIDFile()
	if err != nil {
		return err
	}
	if pf.socketDir == "" {
		return fmt.Errorf("pgembed: the PostgreSQL server running on %s (PID %d) listens on no Unix socket", c.pgdata, pf.pid)
	}
	c.socketDir, c.port = pf.socketDir, pf.port
	// A server that pg_ctl sees running may still be starting up, or be another process that took
	// over a dead server's PID.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := c.ping(ctx)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("pgembed: postmaster.pid in %s names PID %d, which is running, but no server answers on %s: "+
				"if no PostgreSQL runs on this cluster, remove that postmaster.pid: %w", c.pgdata, pf.pid, c.socketDir, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// ping connects to the postgres database and disconnects.
func (c *Cluster) ping(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// socketDirFor returns where the server's socket goes: the cluster directory itself, when the path
// fits in a socket address, and else a directory of its own under os.TempDir().
func (c *Cluster) socketDirFor() (string, error) {
	if len(c.pgdata)+1+len(socketFile) <= maxSocketPath {
		return c.pgdata, nil
	}
	sum := sha256.Sum256([]byte(c.pgdata))
	dir := filepath.Join(os.TempDir(), "mim-pg-"+hex.EncodeToString(sum[:6]))
	if len(dir)+1+len(socketFile) > maxSocketPath {
		return "", fmt.Errorf("pgembed: no socket path short enough for %s: set TMPDIR to a shorter directory", c.pgdata)
	}
	owner := uint32(os.Geteuid())
	if c.runAs != nil {
		owner = c.runAs.Uid
	}
	if err := os.Mkdir(dir, 0o700); err == nil {
		return dir, c.chown(dir)
	} else if !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("pgembed: socket directory: %w", err)
	}
	// The directory is under a shared temporary directory: use it only if the server's user owns it
	// and nobody else can enter it, or another user could stand in for the server.
	info, err := os.Lstat(dir)
	if err != nil {
		return "", fmt.Errorf("pgembed: socket directory: %w", err)
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !info.IsDir() || !ok || st.Uid != owner || info.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("pgembed: refusing socket directory %s: it must be a directory of uid %d with mode 0700; remove it", dir, owner)
	}
	return dir, nil
}

// start writes mim.conf and starts the server with pg_ctl, waiting until it accepts connections.
// pg_ctl start copes with a postmaster.pid left by a crash.
func (c *Cluster) start(ctx context.Context, settings map[string]string) error {
	socketDir, err := c.socketDirFor()
	if err != nil {
		return err
	}
	if err := c.writeConf(socketDir, settings); err != nil {
		return err
	}
	logFile, err := os.OpenFile(c.logPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("pgembed: server log: %w", err)
	}
	_ = logFile.Close()
	if err := c.chown(c.logPath()); err != nil {
		return err
	}
	if _, err := c.run(ctx, c.pgdata, "pg_ctl", "start", "-D", c.pgdata, "-l", c.logPath(), "-w", "-t", pgCtlTimeout, "-s"); err != nil {
		return fmt.Errorf("%w\nlast lines of %s:\n%s", err, c.logPath(), tail(c.logPath(), 20))
	}
	c.socketDir, c.port = socketDir, port
	if pf, err := c.readPIDFile(); err == nil && pf.socketDir != "" {
		c.socketDir, c.port = pf.socketDir, pf.port
	}
	return nil
}

// writeConf writes the settings mim manages into mim.conf, and makes sure postgresql.conf includes it.
func (c *Cluster) writeConf(socketDir string, settings map[string]string) error {
	var b strings.Builder
	b.WriteString("# Written by mim at each start of this server: do not edit; use ALTER SYSTEM for settings of your own.\n")
	fmt.Fprintf(&b, "listen_addresses = ''\n")
	fmt.Fprintf(&b, "unix_socket_directories = %s\n", quoteSetting(socketDir))
	fmt.Fprintf(&b, "port = %d\n", port)
	names := make([]string, 0, len(settings))
	for name := range settings {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(&b, "%s = %s\n", name, quoteSetting(settings[name]))
	}
	path := filepath.Join(c.pgdata, confFile)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	if err := c.chown(path); err != nil {
		return err
	}

	mainConf := filepath.Join(c.pgdata, "postgresql.conf")
	raw, err := os.ReadFile(mainConf)
	if err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	if slices.Contains(strings.Split(string(raw), "\n"), includeLine) {
		return nil
	}
	f, err := os.OpenFile(mainConf, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	_, err = fmt.Fprintf(f, "\n# Added by mim: the settings mim manages, rewritten at each start.\n%s\n", includeLine)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("pgembed: postgresql.conf: %w", err)
	}
	return nil
}

// quoteSetting quotes a value for postgresql.conf, where a quoted string takes backslash escapes.
func quoteSetting(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(v) + "'"
}

// tail returns the last n lines of the file at path, or a note that it cannot be read.
func tail(path string, n int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ensureDatabase creates the database "mim" if it does not exist yet.
func (c *Cluster) ensureDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pgembed: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", DefaultDatabase).Scan(&exists); err != nil {
		return fmt.Errorf("pgembed: look for database %s: %w", DefaultDatabase, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{DefaultDatabase}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: someone else was quicker
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgembed: create database %s: %w", DefaultDatabase, err)
	}
	return nil
}
