//go:build !js

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// shutdownGrace bounds how long in-flight requests may finish after Ctrl-C.
const shutdownGrace = 5 * time.Second

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (host:port; port 0 picks a free one)")
	dir := flag.String("dir", "public", "folder of the site's files")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := listen(*addr, *dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
	srv.announce(os.Stdout)
	if err := srv.serve(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

// localServer is the site on a bound TCP listener.
type localServer struct {
	dir      string
	listener net.Listener
	http     *http.Server
	root     *os.Root
}

// listen opens dir and binds addr, so that a busy port or a missing folder is
// reported before anything is announced.
func listen(addr, dir string) (*localServer, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("opening the site folder: %w (run ./build.sh from the repository root, or pass -dir)", err)
	}
	if _, err := root.Stat("index.html"); err != nil {
		root.Close()
		return nil, fmt.Errorf("%s has no index.html: pass -dir with the site folder", dir)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("listening on %s: %w (is another server running there? pick another -addr)", addr, err)
	}
	return &localServer{
		dir:      dir,
		listener: ln,
		root:     root,
		http: &http.Server{
			Handler:           newHandler(root, "local"),
			ReadHeaderTimeout: 10 * time.Second,
		},
	}, nil
}

// URL is the address a browser opens.
func (s *localServer) URL() string {
	return "http://" + s.listener.Addr().String() + "/"
}

// announce prints the URL (tests and build.sh read it from the first line)
// and warns when the wasm build output is missing.
func (s *localServer) announce(w io.Writer) {
	fmt.Fprintf(w, "serving %s on %s (Ctrl-C stops)\n", s.dir, s.URL())
	for _, name := range []string{"app.wasm", "worker.wasm", "wasm_exec.js"} {
		if _, err := os.Stat(filepath.Join(s.dir, name)); err != nil {
			fmt.Fprintf(w, "warning: %s is missing; run ./build.sh to build it\n", filepath.Join(s.dir, name))
		}
	}
}

// serve answers requests until ctx is done, then lets in-flight requests
// finish for up to shutdownGrace.
func (s *localServer) serve(ctx context.Context) error {
	defer s.root.Close()
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.listener) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := s.http.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
