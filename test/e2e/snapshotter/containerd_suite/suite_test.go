// containerd's own snapshotter conformance suite (snapshots/testsuite, from Debian's
// golang-github-containerd-containerd-dev), run against tide-snapshotter over its gRPC socket,
// exactly as containerd reaches it through a proxy_plugins entry.
//
// Every subtest gets a fresh tide-snapshotter process with its own root and socket under the
// suite's temporary directory; TIDE_SNAPSHOTTER names the binary.
package containerdsuite

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/snapshots"
	"github.com/containerd/containerd/snapshots/proxy"
	"github.com/containerd/containerd/snapshots/testsuite"
	"google.golang.org/grpc"
)

// How long a fresh tide-snapshotter may take to create its socket before the subtest fails.
const startTimeout = 30 * time.Second

func TestTideSnapshotter(t *testing.T) {
	binary := os.Getenv("TIDE_SNAPSHOTTER")
	if binary == "" {
		t.Fatal("TIDE_SNAPSHOTTER must name the tide-snapshotter binary")
	}
	testsuite.SnapshotterSuite(t, "tide", func(ctx context.Context, root string) (snapshots.Snapshotter, func() error, error) {
		return startTide(binary, root)
	})
}

// startTide runs tide-snapshotter on ROOT/tide with its socket beside it, and returns a proxy
// snapshotter speaking to it and a cleanup that stops the process and reports how it exited.
func startTide(binary, root string) (snapshots.Snapshotter, func() error, error) {
	socket := filepath.Join(root, "tide.sock")
	cmd := exec.Command(binary, "--root", filepath.Join(root, "tide"), "--address", socket, "--log-level", "warn")
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(startTimeout):
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("tide-snapshotter did not stop within %v of SIGTERM", startTimeout)
		}
	}
	if err := waitForSocket(socket, exited); err != nil {
		_ = stop()
		return nil, nil, err
	}
	conn, err := grpc.Dial("unix://"+socket, grpc.WithInsecure(),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		}))
	if err != nil {
		_ = stop()
		return nil, nil, fmt.Errorf("dialing %s: %w", socket, err)
	}
	cleanup := func() error {
		conn.Close()
		return stop()
	}
	return proxy.NewSnapshotter(snapshotsapi.NewSnapshotsClient(conn), "tide"), cleanup, nil
}

func waitForSocket(socket string, exited <-chan error) error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("unix", socket); err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("tide-snapshotter exited before serving %s: %v", socket, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("tide-snapshotter did not serve %s within %v", socket, startTimeout)
}
