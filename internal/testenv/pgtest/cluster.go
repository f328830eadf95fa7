package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	startTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second
)

// cluster is a PostgreSQL data directory of pgtest's own, and the server
// process that runs it.
type cluster struct {
	bin  string // the directory of initdb and postgres
	dir  string // a temporary directory: the data, the server's socket and its log
	port int
	// runAs is the postgres user when pgtest runs as root, which PostgreSQL
	// refuses to run as; nil otherwise.
	runAs *syscall.Credential

	server *exec.Cmd     // nil while stopped
	exited chan struct{} // closed once server has exited
}

// newCluster creates a cluster in a new temporary directory and starts its
// server.
func newCluster() (*cluster, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	runAs, err := serverUser()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin, dir: dir, port: port, runAs: runAs}
	if err := c.create(); err != nil {
		return nil, errors.Join(err, c.remove())
	}
	if err := c.start(); err != nil {
		return nil, errors.Join(err, c.remove())
	}
	return c, nil
}

// url is the URL of the cluster's maintenance database.
func (c *cluster) url() string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)),
		Path:     "/postgres",
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

func (c *cluster) dataDir() string { return filepath.Join(c.dir, "data") }
func (c *cluster) logFile() string { return filepath.Join(c.dir, "postgres.log") }

// create makes the data directory: superuser postgres, trusted on every
// connection; byte-order C for the operating system's locale, ICU's en-US for
// the default collation (see the package comment). No fsync: a test's data
// need not survive a crash of the machine.
func (c *cluster) create() error {
	if c.runAs != nil {
		if err := os.Chown(c.dir, int(c.runAs.Uid), int(c.runAs.Gid)); err != nil {
			return err
		}
	}
	out, err := c.command("initdb", "-D", c.dataDir(), "-A", "trust", "-U", "postgres", "-E", "UTF8",
		"--locale=C", "--locale-provider=icu", "--icu-locale=en-US", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

// start starts the server, as a child that dies with the test binary, and
// waits until it accepts connections.
func (c *cluster) start() error {
	if c.running() {
		return errors.New("the server is already running")
	}
	log, err := os.OpenFile(c.logFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close() // the server writes to its own copy
	server := c.command("postgres", "-D", c.dataDir(),
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(c.port), "-k", c.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	server.Stdout, server.Stderr = log, log
	dieWithParent(server.SysProcAttr)
	if err := server.Start(); err != nil {
		return err
	}
	c.server, c.exited = server, make(chan struct{})
	go func(exited chan struct{}) {
		server.Wait()
		close(exited)
	}(c.exited)

	if err := c.waitReady(); err != nil {
		return errors.Join(fmt.Errorf("%w; its log:\n%s", err, c.logTail()), c.stop())
	}
	return nil
}

// waitReady waits until the server accepts connections, or exits.
func (c *cluster) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, c.url())
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-c.exited:
			return errors.New("postgres exited on start")
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections within %v: %w", startTimeout, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *cluster) running() bool { return c.server != nil }

// stop makes a fast shutdown of the server: it ends the sessions, then
// exits. Stopping a stopped server does nothing.
func (c *cluster) stop() error {
	if !c.running() {
		return nil
	}
	defer func() { c.server = nil }()
	err := c.server.Process.Signal(syscall.SIGINT)
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop postgres: %w", err)
	}
	select {
	case <-c.exited:
		return nil
	case <-time.After(stopTimeout):
		c.server.Process.Kill()
		<-c.exited
		return fmt.Errorf("postgres did not stop within %v, and was killed", stopTimeout)
	}
}

// remove stops the server and deletes its directory.
func (c *cluster) remove() error {
	return errors.Join(c.stop(), os.RemoveAll(c.dir))
}

// command runs the named PostgreSQL program as the server's user.
func (c *cluster) command(program string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, program), args...)
	cmd.Dir = c.dir // somewhere the server's user may be
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.runAs}
	return cmd
}

// logTail is the end of the server's log, to explain a failure.
func (c *cluster) logTail() string {
	const tailSize = 4 << 10
	log, err := os.ReadFile(c.logFile())
	if err != nil {
		return err.Error()
	}
	return string(log[max(0, len(log)-tailSize):])
}

// findBinaries returns the directory of PostgreSQL's server programs:
// pg_config's, else the newest version's in Debian's layout.
func findBinaries() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		// pg_config may come from libpq-dev alone, without the server.
		if dir := strings.TrimSpace(string(out)); hasServer(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin") // the pattern is valid
	slices.SortFunc(dirs, func(a, b string) int { return majorVersion(b) - majorVersion(a) })
	for _, dir := range dirs {
		if hasServer(dir) {
			return dir, nil
		}
	}
	return "", errors.New("the PostgreSQL server (initdb, postgres) is not installed: " +
		"run `make test`, which installs it, or `apt-get install postgresql`")
}

func hasServer(dir string) bool {
	for _, program := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, program)); err != nil {
			return false
		}
	}
	return true
}

// majorVersion reads 15 from /usr/lib/postgresql/15/bin, or 0.
func majorVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// serverUser is whom to run PostgreSQL as: the postgres user if we are
// root, else ourselves (nil).
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL refuses to run as root, and there is no postgres user to run it as "+
			"(`apt-get install postgresql` makes one): %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// freePort is a TCP port on 127.0.0.1 that nothing listened on a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
