//go:build wrangler && !js

// The Worker-runtime test: the Worker that ./build.sh worker built, run by
// `wrangler dev` (the workerd runtime from package.json) on a loopback port.
// ./build.sh test runs it with: go test -tags wrangler -run TestWorkerRuntime .

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer collects the output of wrangler, written by two pipes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// startWrangler runs `wrangler dev` in its own process group and returns the
// base URL once /healthz answers. The cleanup ends the whole group (node,
// workerd) and checks that nothing of it is left.
func startWrangler(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed, so the Workers runtime cannot start; install Node.js 20 or newer to run this test")
	}
	for file, fix := range map[string]string{
		"node_modules/.bin/wrangler": "run npm ci (./build.sh test does)",
		"build/worker/worker.mjs":    "run ./build.sh worker",
		"build/worker/app.wasm":      "run ./build.sh worker",
		"public/app.wasm":            "run ./build.sh",
	} {
		if _, err := os.Stat(file); err != nil {
			t.Fatalf("%s is missing: %s", file, fix)
		}
	}
	port := freePort(t)
	cmd := exec.Command(filepath.Join("node_modules", ".bin", "wrangler"), "dev",
		"--ip", "127.0.0.1", "--port", port,
		"--inspector-ip", "127.0.0.1", "--inspector-port", freePort(t),
		"--persist-to", t.TempDir(),
		"--show-interactive-dev-session=false", "--log-level", "warn")
	cmd.Env = append(os.Environ(),
		"WRANGLER_SEND_METRICS=false",
		"CLOUDFLARE_CF_FETCH_ENABLED=false",
		"CI=true",
		"WRANGLER_LOG_PATH="+t.TempDir(),
	)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting wrangler dev: %v", err)
	}
	pgid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Log("wrangler ignored SIGTERM for 10s; killing its process group")
		}
		// Whatever wrangler left of its group (workerd) goes too.
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-exited
		deadline := time.Now().Add(5 * time.Second)
		for syscall.Kill(-pgid, 0) == nil {
			if time.Now().After(deadline) {
				t.Errorf("processes of wrangler's group %d are still running", pgid)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if t.Failed() {
			t.Logf("wrangler output:\n%s", out.String())
		}
	})

	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("wrangler dev exited before it was ready:\n%s", out.String())
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("wrangler dev did not answer /healthz within 90s (last: %v)", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestWorkerRuntime(t *testing.T) {
	base := startWrangler(t)

	t.Run("healthz from the Go handler", func(t *testing.T) {
		resp, body := get(t, base+"/healthz", nil)
		var h health
		if err := json.Unmarshal(body, &h); err != nil {
			t.Fatalf("body %q: %v", body, err)
		}
		if want := (health{OK: true, Go: runtime.Version(), Host: "worker"}); h != want {
			t.Errorf("healthz = %+v, want %+v", h, want)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
	})

	t.Run("index page from static assets", func(t *testing.T) {
		resp, body := get(t, base+"/", nil)
		if resp.StatusCode != 200 || !strings.Contains(string(body), `<div id="app">`) {
			t.Fatalf("status %d, body %.200q", resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Content-Type %q", ct)
		}
		checkSecurityHeaders(t, resp, "/")
	})

	t.Run("wasm from static assets", func(t *testing.T) {
		want, err := os.ReadFile("public/app.wasm")
		if err != nil {
			t.Fatal(err)
		}
		resp, body := get(t, base+"/app.wasm", nil)
		if resp.StatusCode != 200 || !bytes.Equal(body, want) {
			t.Fatalf("status %d, %d bytes, want the %d bytes of public/app.wasm", resp.StatusCode, len(body), len(want))
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/wasm" {
			t.Errorf("Content-Type %q, want application/wasm", ct)
		}
		checkSecurityHeaders(t, resp, "/app.wasm")
		etag := resp.Header.Get("ETag")
		if etag == "" {
			t.Fatal("no ETag: the browser cannot revalidate the wasm")
		}
		again, _ := get(t, base+"/app.wasm", map[string]string{"If-None-Match": etag})
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("revalidation: status %d, want 304", again.StatusCode)
		}
	})

	t.Run("embed page may be framed", func(t *testing.T) {
		resp, body := get(t, base+"/embed.html", nil) // the client follows /embed.html -> /embed
		if resp.StatusCode != 200 || !strings.Contains(string(body), "data-embed") {
			t.Fatalf("status %d, body %.200q", resp.StatusCode, body)
		}
		checkSecurityHeaders(t, resp, resp.Request.URL.Path)
	})

	t.Run("precompressed copies are not uploaded", func(t *testing.T) {
		resp, _ := get(t, base+"/app.wasm.br", nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("status %d, want 404 (.assetsignore)", resp.StatusCode)
		}
	})
}

// checkSecurityHeaders compares what the Worker sent with serve.go's policy.
func checkSecurityHeaders(t *testing.T, resp *http.Response, urlPath string) {
	t.Helper()
	for k, v := range securityHeaders(urlPath) {
		if got := resp.Header.Values(k); strings.Join(got, "|") != strings.Join(v, "|") {
			t.Errorf("%s: %s = %q, want %q", urlPath, k, got, v)
		}
	}
	if !isEmbedPath(urlPath) && resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("%s: X-Frame-Options %q", urlPath, resp.Header.Get("X-Frame-Options"))
	}
	if isEmbedPath(urlPath) && resp.Header.Get("X-Frame-Options") != "" {
		t.Errorf("%s: X-Frame-Options %q forbids framing the embed page", urlPath, resp.Header.Get("X-Frame-Options"))
	}
}
