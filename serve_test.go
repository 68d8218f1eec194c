//go:build !js

package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

const secret = "TOP-SECRET: must never be served"

var wasmBytes = []byte("\x00asm\x01\x00\x00\x00 a stand-in module, repeated repeated repeated repeated")

// newTestSite lays out a site folder and, beside it, a folder with a secret
// that symlinks inside the site point to. It returns the site's path.
func newTestSite(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	site := filepath.Join(base, "public")
	outside := filepath.Join(base, "private")
	built := time.Now().Add(-time.Minute).Truncate(time.Second)
	old := built.Add(-time.Hour)
	files := map[string][]byte{
		"index.html":        []byte("<h1>home</h1>"),
		"embed.html":        []byte("<h1>embed</h1>"),
		"app.wasm":          wasmBytes,
		"app.wasm.gz":       gzipped(t, wasmBytes),
		"app.wasm.br":       []byte("stand-in brotli bytes"),
		"style.css":         []byte("body { color: black }"),
		"style.css.gz":      gzipped(t, []byte("body { color: red }")), // stale, see below
		"sub/index.html":    []byte("<h1>sub</h1>"),
		".secret":           []byte(secret),
		"_headers":          []byte("/*\n  X-Secret: " + secret),
		"../private/s.txt":  []byte(secret),
		"../private/d/x.js": []byte(secret),
	}
	for name, body := range files {
		p := filepath.Join(site, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
		// One time stamp for all, so no copy looks older than its original.
		if err := os.Chtimes(p, built, built); err != nil {
			t.Fatal(err)
		}
	}
	// The .gz of style.css predates it: a leftover of an earlier build.
	if err := os.Chtimes(filepath.Join(site, "style.css.gz"), old, old); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(site, "emptydir"), 0o755); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"leak":        filepath.Join(outside, "s.txt"), // absolute, out of the site
		"leakrel":     "../private/s.txt",              // relative, out of the site
		"leakdir":     outside,
		"inside.html": "index.html", // stays inside: allowed
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(site, name)); err != nil {
			t.Fatal(err)
		}
	}
	return site
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// startTestServer serves site with the real handler on a loopback port.
func startTestServer(t *testing.T, site string) *httptest.Server {
	t.Helper()
	root, err := os.OpenRoot(site)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	srv := httptest.NewServer(newHandler(root, "local"))
	t.Cleanup(srv.Close)
	return srv
}

// rawGet sends target byte for byte on the request line (no client-side
// cleaning or escaping) and follows up to five redirects.
func rawGet(t *testing.T, srv *httptest.Server, method, target string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	for range 5 {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		var req strings.Builder
		req.WriteString(method + " " + target + " HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n")
		for k, v := range header {
			req.WriteString(k + ": " + v + "\r\n")
		}
		req.WriteString("\r\n")
		if _, err := io.WriteString(conn, req.String()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		body, err := io.ReadAll(resp.Body)
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		default:
			return resp, body
		}
		loc := resp.Header.Get("Location")
		if !strings.HasPrefix(loc, "/") {
			t.Fatalf("%s %s: redirect to %q leaves the site", method, target, loc)
		}
		target = loc
	}
	t.Fatalf("%s: more than five redirects", target)
	return nil, nil
}

func TestServesOnlyFilesOfTheSite(t *testing.T) {
	srv := startTestServer(t, newTestSite(t))
	tests := []struct {
		target     string
		wantStatus int
		wantBody   string
	}{
		{"/", 200, "<h1>home</h1>"},
		{"/index.html", 200, "<h1>home</h1>"},
		{"/sub/", 200, "<h1>sub</h1>"},
		{"/inside.html", 200, "<h1>home</h1>"}, // a symlink within the site
		{"/?q=1", 200, "<h1>home</h1>"},

		// No directory listings.
		{"/sub", 404, ""},
		{"/emptydir/", 404, ""},
		{"/emptydir", 404, ""},
		{"/nope.js", 404, ""},

		// Traversal, plain and encoded.
		{"/../private/s.txt", 404, ""},
		{"/../../../../etc/passwd", 404, ""},
		{"/%2e%2e/private/s.txt", 404, ""},
		{"/%2E%2E/private/s.txt", 404, ""},
		{"/..%2fprivate%2fs.txt", 404, ""},
		{"/sub/..%2f..%2fprivate%2fs.txt", 404, ""},
		{"/sub/%2e%2e/%2e%2e/private/s.txt", 404, ""},
		{"/..%5cprivate%5cs.txt", 404, ""},
		{"/..\\private\\s.txt", 404, ""},

		// Absolute paths.
		{"//etc/passwd", 404, ""},
		{"/%2fetc%2fpasswd", 404, ""},
		{"/%2Fetc/passwd", 404, ""},
		{"http://site.test/../private/s.txt", 404, ""},

		// Symlinks that leave the site.
		{"/leak", 404, ""},
		{"/leakrel", 404, ""},
		{"/leakdir/s.txt", 404, ""},
		{"/leakdir/d/x.js", 404, ""},

		// Hidden files and Cloudflare's control files.
		{"/.secret", 404, ""},
		{"/_headers", 404, ""},
		{"/sub/%00", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			resp, body := rawGet(t, srv, "GET", tt.target, nil)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d (body %q)", resp.StatusCode, tt.wantStatus, body)
			}
			if bytes.Contains(body, []byte("TOP-SECRET")) {
				t.Fatalf("served the secret: %q", body)
			}
			if tt.wantBody != "" && string(body) != tt.wantBody {
				t.Errorf("body %q, want %q", body, tt.wantBody)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q", got)
			}
		})
	}
}

func TestContentTypeCachingAndCompression(t *testing.T) {
	srv := startTestServer(t, newTestSite(t))
	tests := []struct {
		name, path, acceptEncoding string
		wantType, wantEncoding     string
		wantBody                   []byte
	}{
		{"wasm without Accept-Encoding", "/app.wasm", "", "application/wasm", "", wasmBytes},
		{"wasm, gzip accepted", "/app.wasm", "gzip", "application/wasm", "gzip", gzipped(t, wasmBytes)},
		{"wasm, brotli preferred", "/app.wasm", "gzip, deflate, br", "application/wasm", "br", []byte("stand-in brotli bytes")},
		{"wasm, brotli refused by q=0", "/app.wasm", "br;q=0, gzip", "application/wasm", "gzip", gzipped(t, wasmBytes)},
		{"wasm, any coding", "/app.wasm", "*", "application/wasm", "br", []byte("stand-in brotli bytes")},
		{"wasm, identity only", "/app.wasm", "identity", "application/wasm", "", wasmBytes},
		{"wasm, everything refused", "/app.wasm", "gzip;q=0, br;q=0", "application/wasm", "", wasmBytes},
		{"stale .gz is not used", "/style.css", "gzip", "text/css; charset=utf-8", "", []byte("body { color: black }")},
		{"html", "/", "gzip, br", "text/html; charset=utf-8", "", []byte("<h1>home</h1>")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.acceptEncoding != "" {
				h["Accept-Encoding"] = tt.acceptEncoding
			}
			resp, body := rawGet(t, srv, "GET", tt.path, h)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			want := map[string]string{
				"Content-Type":           tt.wantType,
				"Content-Encoding":       tt.wantEncoding,
				"Vary":                   "Accept-Encoding",
				"Cache-Control":          "no-cache",
				"X-Content-Type-Options": "nosniff",
			}
			for k, v := range want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if resp.Header.Get("ETag") == "" || resp.Header.Get("Last-Modified") == "" {
				t.Errorf("no validators: ETag %q, Last-Modified %q", resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"))
			}
			if !bytes.Equal(body, tt.wantBody) {
				t.Errorf("body %q, want %q", body, tt.wantBody)
			}
		})
	}
}

// A browser that has the wasm revalidates it and gets a 304 without body,
// separately for each representation.
func TestRevalidationAnswers304(t *testing.T) {
	srv := startTestServer(t, newTestSite(t))
	for _, enc := range []string{"", "gzip", "br"} {
		h := map[string]string{}
		if enc != "" {
			h["Accept-Encoding"] = enc
		}
		first, _ := rawGet(t, srv, "GET", "/app.wasm", h)
		etag := first.Header.Get("ETag")
		for _, cond := range []map[string]string{
			{"If-None-Match": etag},
			{"If-Modified-Since": first.Header.Get("Last-Modified")},
		} {
			for k, v := range h {
				cond[k] = v
			}
			resp, body := rawGet(t, srv, "GET", "/app.wasm", cond)
			if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Errorf("encoding %q, %v: status %d with %d body bytes, want 304 and none", enc, cond, resp.StatusCode, len(body))
			}
		}
		if enc != "" && !strings.Contains(etag, enc) {
			t.Errorf("ETag %s of the %s copy does not differ from the identity one", etag, enc)
		}
	}
	changed, _ := rawGet(t, srv, "GET", "/app.wasm", map[string]string{"If-None-Match": `"stale"`})
	if changed.StatusCode != 200 {
		t.Errorf("a stale ETag got status %d, want 200", changed.StatusCode)
	}
}

func TestMethods(t *testing.T) {
	srv := startTestServer(t, newTestSite(t))
	head, body := rawGet(t, srv, "HEAD", "/app.wasm", nil)
	if head.StatusCode != 200 || len(body) != 0 || head.Header.Get("Content-Length") != strconv.Itoa(len(wasmBytes)) {
		t.Errorf("HEAD: status %d, %d body bytes, Content-Length %q", head.StatusCode, len(body), head.Header.Get("Content-Length"))
	}
	for _, method := range []string{"POST", "PUT", "DELETE"} {
		resp, _ := rawGet(t, srv, method, "/index.html", nil)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: status %d, Allow %q", method, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	srv := startTestServer(t, newTestSite(t))
	tests := []struct {
		path           string
		frameAncestors string
		xFrameOptions  string
	}{
		{"/", "frame-ancestors 'none'", "DENY"},
		{"/index.html", "frame-ancestors 'none'", "DENY"},
		{"/app.wasm", "frame-ancestors 'none'", "DENY"},
		{"/nope", "frame-ancestors 'none'", "DENY"},
		{"/healthz", "frame-ancestors 'none'", "DENY"},
		{"/embed.html", "frame-ancestors *", ""},
	}
	for _, tt := range tests {
		resp, _ := rawGet(t, srv, "GET", tt.path, nil)
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{tt.frameAncestors, "script-src 'self' 'wasm-unsafe-eval'", "worker-src 'self'", "default-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", tt.path, csp, want)
			}
		}
		if strings.Contains(csp, "'unsafe-eval'") || strings.Contains(csp, "'unsafe-inline'") {
			t.Errorf("%s: CSP %q allows eval or inline code", tt.path, csp)
		}
		if got := resp.Header.Get("X-Frame-Options"); got != tt.xFrameOptions {
			t.Errorf("%s: X-Frame-Options %q, want %q", tt.path, got, tt.xFrameOptions)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", tt.path, got)
		}
	}
}

func TestHealthz(t *testing.T) {
	srv := startTestServer(t, newTestSite(t))
	resp, body := rawGet(t, srv, "GET", "/healthz", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, Content-Type %q, Cache-Control %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	var got health
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if want := (health{OK: true, Go: runtime.Version(), Host: "local"}); got != want {
		t.Errorf("healthz = %+v, want %+v", got, want)
	}
	post, _ := rawGet(t, srv, "POST", "/healthz", nil)
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz: status %d", post.StatusCode)
	}
}

// Without a folder (the Worker build), only the API answers.
func TestHandlerWithoutFolderAnswersAPIOnly(t *testing.T) {
	srv := httptest.NewServer(newHandler(nil, "worker"))
	defer srv.Close()
	resp, body := rawGet(t, srv, "GET", "/healthz", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"host":"worker"`) {
		t.Errorf("/healthz: %d %s", resp.StatusCode, body)
	}
	resp, _ = rawGet(t, srv, "GET", "/index.html", nil)
	if resp.StatusCode != 404 || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("/index.html: status %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
}

func TestAcceptsEncoding(t *testing.T) {
	tests := []struct {
		header []string
		coding string
		want   bool
	}{
		{nil, "gzip", false},
		{[]string{"gzip"}, "gzip", true},
		{[]string{"GZIP"}, "gzip", true},
		{[]string{"deflate", "gzip"}, "gzip", true}, // two header lines
		{[]string{"gzip;q=0"}, "gzip", false},
		{[]string{"gzip; q=0.0"}, "gzip", false},
		{[]string{"gzip;q=0.5"}, "gzip", true},
		{[]string{"gzip;q=nonsense"}, "gzip", false},
		{[]string{"gzip;q=2"}, "gzip", false},
		{[]string{"br"}, "gzip", false},
		{[]string{"*"}, "br", true},
		{[]string{"*;q=0"}, "br", false},
		{[]string{"*;q=0, br"}, "br", true},
		{[]string{"*, br;q=0"}, "br", false},
		{[]string{"gzipx"}, "gzip", false},
	}
	for _, tt := range tests {
		if got := acceptsEncoding(tt.header, tt.coding); got != tt.want {
			t.Errorf("acceptsEncoding(%q, %q) = %v, want %v", tt.header, tt.coding, got, tt.want)
		}
	}
}

func TestContentType(t *testing.T) {
	tests := map[string]string{
		"app.wasm":     "application/wasm",
		"app.js":       "text/javascript; charset=utf-8",
		"worker.mjs":   "text/javascript; charset=utf-8",
		"index.html":   "text/html; charset=utf-8",
		"style.CSS":    "text/css; charset=utf-8",
		"pairs.json":   "application/json",
		"favicon.svg":  "image/svg+xml",
		"no-extension": "application/octet-stream",
	}
	for name, want := range tests {
		if got := contentType(name); got != want {
			t.Errorf("contentType(%q) = %q, want %q", name, got, want)
		}
	}
}

// headersRule is one block of Cloudflare's _headers file.
type headersRule struct {
	pattern string
	set     [][2]string
	unset   []string
}

// parseHeadersFile reads the _headers format: a path line, then indented
// "Name: value" lines and "! Name" lines that remove a header.
func parseHeadersFile(t *testing.T, text string) []headersRule {
	t.Helper()
	var rules []headersRule
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "/"):
			rules = append(rules, headersRule{pattern: line})
		case len(rules) == 0:
			t.Fatalf("_headers line %d: header before any path", i+1)
		case strings.HasPrefix(line, "!"):
			rules[len(rules)-1].unset = append(rules[len(rules)-1].unset, strings.TrimSpace(line[1:]))
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				t.Fatalf("_headers line %d: %q is not 'Name: value'", i+1, line)
			}
			r := &rules[len(rules)-1]
			r.set = append(r.set, [2]string{strings.TrimSpace(name), strings.TrimSpace(value)})
		}
	}
	return rules
}

// applyHeadersRules computes the headers Cloudflare adds for urlPath: rules
// apply in file order, each first removing its "!" headers, then setting its
// own (a second value of a header already set is appended).
func applyHeadersRules(rules []headersRule, urlPath string) http.Header {
	h := http.Header{}
	seen := map[string]bool{}
	for _, r := range rules {
		match := r.pattern == urlPath ||
			(strings.HasSuffix(r.pattern, "*") && strings.HasPrefix(urlPath, strings.TrimSuffix(r.pattern, "*")))
		if !match {
			continue
		}
		for _, name := range r.unset {
			h.Del(name)
		}
		for _, kv := range r.set {
			if seen[http.CanonicalHeaderKey(kv[0])] {
				h.Add(kv[0], kv[1])
			} else {
				h.Set(kv[0], kv[1])
				seen[http.CanonicalHeaderKey(kv[0])] = true
			}
		}
	}
	return h
}

// public/_headers gives Workers Static Assets the same security headers as
// securityHeaders gives the local server.
func TestCloudflareHeadersFileMatchesServer(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("public", "_headers"))
	if err != nil {
		t.Fatal(err)
	}
	rules := parseHeadersFile(t, string(text))
	for _, p := range []string{"/", "/index.html", "/app.wasm", "/worker.js", "/embed.html", "/embed"} {
		got := applyHeadersRules(rules, p)
		want := securityHeaders(p)
		if len(got) != len(want) {
			t.Errorf("%s: _headers gives %v, serve.go gives %v", p, got, want)
			continue
		}
		for k := range want {
			if strings.Join(got.Values(k), "|") != strings.Join(want.Values(k), "|") {
				t.Errorf("%s: %s is %q in _headers, %q in serve.go", p, k, got.Values(k), want.Values(k))
			}
		}
	}
}

func TestLocalServerLifecycle(t *testing.T) {
	site := newTestSite(t)
	srv, err := listen("127.0.0.1:0", site)
	if err != nil {
		t.Fatal(err)
	}
	var announced bytes.Buffer
	srv.announce(&announced)
	if !strings.HasPrefix(announced.String(), "serving "+site+" on "+srv.URL()) {
		t.Errorf("announcement %q does not start with the URL %s", announced.String(), srv.URL())
	}
	if !strings.Contains(announced.String(), "worker.wasm is missing; run ./build.sh") {
		t.Errorf("no warning about the missing worker.wasm in %q", announced.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.serve(ctx) }()
	resp, err := http.Get(srv.URL() + "healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz: %s", resp.Status)
	}

	cancel() // what Ctrl-C does
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after shutdown: %v", err)
		}
	case <-time.After(shutdownGrace + 5*time.Second):
		t.Fatal("serve did not return after the context ended")
	}
	if _, err := http.Get(srv.URL() + "healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

func TestListenErrorsSayWhatToDo(t *testing.T) {
	empty := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		addr, dir, want string
	}{
		{"127.0.0.1:0", filepath.Join(empty, "absent"), "run ./build.sh"},
		{"127.0.0.1:0", empty, "has no index.html"},
		{busy.Addr().String(), newTestSite(t), "pick another -addr"},
		{"not-an-address", newTestSite(t), "listening on not-an-address"},
	}
	for _, tt := range tests {
		srv, err := listen(tt.addr, tt.dir)
		if err == nil {
			srv.listener.Close()
			t.Errorf("listen(%q, %q) succeeded", tt.addr, tt.dir)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("listen(%q, %q) error %q lacks %q", tt.addr, tt.dir, err, tt.want)
		}
	}
}
