package pgembed

import (
	"context"
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
	"github.com/stretchr/testify/require"
)

// fastSettings make test clusters quick to write to; durability does not matter here.
var fastSettings = map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}

// newDataDir returns a missing directory that Open may create, below one the postgres user can
// pass through when the tests run as root (t.TempDir's parent is mode 0700).
func newDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o711))
	require.NoError(t, os.Chmod(dir, 0o711))
	return filepath.Join(dir, "data")
}

// openCluster opens a test cluster on dataDir and closes it when the test ends.
func openCluster(t *testing.T, dataDir string) *Cluster {
	t.Helper()
	c, err := OpenWithOptions(t.Context(), dataDir, nil, Options{NoSync: true, Settings: fastSettings})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close(context.Background())) })
	return c
}

// connect opens a connection to dbname, closed when the test ends.
func connect(t *testing.T, c *Cluster, dbname string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), c.URL(dbname))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// isRunning asks pg_ctl whether the cluster's server runs.
func isRunning(t *testing.T, c *Cluster) bool {
	t.Helper()
	running, err := c.running(t.Context())
	require.NoError(t, err)
	return running
}

func TestFindBinariesFindsServerPrograms(t *testing.T) {
	t.Parallel()
	dir, err := FindBinaries()
	require.NoError(t, err)
	require.True(t, hasBinaries(dir), dir)
}

func TestMajorVersion(t *testing.T) {
	t.Parallel()
	require.Equal(t, "15", majorVersion("pg_ctl (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n"))
	require.Equal(t, "17", majorVersion("pg_ctl (PostgreSQL) 17beta1\n"))
	require.Equal(t, "9.6", majorVersion("pg_ctl (PostgreSQL) 9.6.24\n"))
}

func TestOpenCreatesStartsAndRestartsKeepingData(t *testing.T) {
	t.Parallel()
	dataDir := newDataDir(t)

	begin := time.Now()
	c, err := OpenWithOptions(t.Context(), dataDir, nil, Options{NoSync: true, Settings: fastSettings})
	require.NoError(t, err)
	t.Logf("first Open (initdb and start): %v", time.Since(begin))
	require.True(t, c.started)
	require.True(t, strings.HasPrefix(c.URL("mim"), "postgres://mim@/mim?"), c.URL("mim"))

	conn, err := pgx.Connect(t.Context(), c.URL(DefaultDatabase))
	require.NoError(t, err)
	var one int
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT 1").Scan(&one))
	require.Equal(t, 1, one)
	var fsync string
	require.NoError(t, conn.QueryRow(t.Context(), "SHOW fsync").Scan(&fsync))
	require.Equal(t, "off", fsync)
	var listen string
	require.NoError(t, conn.QueryRow(t.Context(), "SHOW listen_addresses").Scan(&listen))
	require.Empty(t, listen)
	_, err = conn.Exec(t.Context(), "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
	require.NoError(t, err)
	require.NoError(t, conn.Close(t.Context()))
	require.NoError(t, c.Close(t.Context()))
	require.False(t, isRunning(t, c))

	begin = time.Now()
	c = openCluster(t, dataDir)
	t.Logf("second Open (start only): %v", time.Since(begin))
	require.True(t, c.started)
	var v string
	require.NoError(t, connect(t, c, DefaultDatabase).QueryRow(t.Context(), "SELECT v FROM kept").Scan(&v))
	require.Equal(t, "still here", v)
}

func TestOpenReusesRunningServerAndLeavesItRunning(t *testing.T) {
	t.Parallel()
	dataDir := newDataDir(t)
	first := openCluster(t, dataDir)
	require.True(t, first.started)

	begin := time.Now()
	second, err := Open(t.Context(), dataDir, nil)
	require.NoError(t, err)
	t.Logf("Open of a running cluster: %v", time.Since(begin))
	require.False(t, second.started)
	require.Equal(t, first.URL("mim"), second.URL("mim"))
	var one int
	require.NoError(t, connect(t, second, "mim").QueryRow(t.Context(), "SELECT 1").Scan(&one))

	require.NoError(t, second.Close(t.Context()))
	require.True(t, isRunning(t, first))
	require.NoError(t, connect(t, first, "mim").QueryRow(t.Context(), "SELECT 1").Scan(&one))

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	require.NoError(t, first.Close(cancelled), "a shutdown path's context is often already cancelled")
	require.False(t, isRunning(t, first))
}

func TestOpenConcurrentlyStartsOneServer(t *testing.T) {
	t.Parallel()
	dataDir := newDataDir(t)

	const n = 3
	clusters := make([]*Cluster, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			clusters[i], errs[i] = OpenWithOptions(t.Context(), dataDir, nil, Options{NoSync: true, Settings: fastSettings})
		})
	}
	wg.Wait()
	started := 0
	for i := range n {
		require.NoError(t, errs[i])
		t.Cleanup(func() { require.NoError(t, clusters[i].Close(context.Background())) })
		if clusters[i].started {
			started++
		}
		var one int
		require.NoError(t, connect(t, clusters[i], "mim").QueryRow(t.Context(), "SELECT 1").Scan(&one))
	}
	require.Equal(t, 1, started)
}

func TestOpenStartsDespiteStalePIDFile(t *testing.T) {
	t.Parallel()
	dataDir := newDataDir(t)
	c, err := OpenWithOptions(t.Context(), dataDir, nil, Options{NoSync: true, Settings: fastSettings})
	require.NoError(t, err)
	pidPath := filepath.Join(c.pgdata, "postmaster.pid")
	pid, err := os.ReadFile(pidPath)
	require.NoError(t, err)
	info, err := os.Stat(pidPath)
	require.NoError(t, err)
	require.NoError(t, c.Close(t.Context()))
	// pg_ctl stop returns once postmaster.pid is gone, a moment before the process is.
	postmaster, err := strconv.Atoi(strings.SplitN(string(pid), "\n", 2)[0])
	require.NoError(t, err)
	require.Eventually(t, func() bool { return syscall.Kill(postmaster, 0) != nil }, 10*time.Second, 10*time.Millisecond)

	// Put back the file a server killed by a crash or a power cut leaves behind.
	require.NoError(t, os.WriteFile(pidPath, pid, info.Mode().Perm()))
	require.NoError(t, c.chown(pidPath))
	require.False(t, isRunning(t, c))

	c = openCluster(t, dataDir)
	require.True(t, c.started)
	var one int
	require.NoError(t, connect(t, c, "mim").QueryRow(t.Context(), "SELECT 1").Scan(&one))
}

func TestOpenRestartsServerKilledWithSIGKILL(t *testing.T) {
	t.Parallel()
	dataDir := newDataDir(t)
	c := openCluster(t, dataDir)
	pf, err := c.readPIDFile()
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(pf.pid, syscall.SIGKILL))
	require.Eventually(t, func() bool { return syscall.Kill(pf.pid, 0) != nil }, 10*time.Second, 10*time.Millisecond)

	begin := time.Now()
	again := openCluster(t, dataDir)
	t.Logf("Open after SIGKILL: %v", time.Since(begin))
	require.True(t, again.started)
	var one int
	require.NoError(t, connect(t, again, "mim").QueryRow(t.Context(), "SELECT 1").Scan(&one))
}

func TestOpenPutsSocketInTempDirWhenPathIsTooLong(t *testing.T) {
	t.Parallel()
	dataDir := newDataDir(t)
	for len(dataDir) < maxSocketPath {
		dataDir = filepath.Join(dataDir, strings.Repeat("d", 30))
	}
	c := openCluster(t, dataDir)
	require.True(t, strings.HasPrefix(c.socketDir, os.TempDir()), c.socketDir)
	var one int
	conn := connect(t, c, "mim")
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT 1").Scan(&one))
	require.NoError(t, conn.Close(t.Context()))

	require.NoError(t, c.Close(t.Context()))
	require.NoDirExists(t, c.socketDir)
}

func TestOpenExplainsUnreachableDataDirWhenRoot(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("only root runs the server as another user")
	}
	locked := t.TempDir()
	require.NoError(t, os.Chmod(locked, 0o700))

	_, err := Open(t.Context(), filepath.Join(locked, "data"), nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), locked)
	require.Contains(t, err.Error(), "MIM_DATA_DIR")
	require.Contains(t, err.Error(), "MIM_DATABASE_URL")
}

// A server left running by a process that is gone (a mim killed with -9) is taken over: it stops with the next owner.
func TestOpenTakesOverServerWhoseOwnerIsGone(t *testing.T) {
	t.Parallel()
	dataDir := newDataDir(t)
	first, err := OpenWithOptions(t.Context(), dataDir, nil, Options{NoSync: true, Settings: fastSettings})
	require.NoError(t, err)
	require.True(t, first.started)

	gone := exec.Command("true")
	require.NoError(t, gone.Run())
	require.NoError(t, os.WriteFile(first.ownerPath(), []byte(strconv.Itoa(gone.Process.Pid)), 0o600))

	second, err := Open(t.Context(), dataDir, nil)
	require.NoError(t, err)
	require.True(t, second.started, "the orphaned server is taken over")
	require.NoError(t, second.Close(t.Context()))
	require.False(t, isRunning(t, second))
}
