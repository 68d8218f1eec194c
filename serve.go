// Command dpoplayground serves the DPO Playground: the static site in public/
// and a small JSON API. Natively it is a local web server (serve_native.go);
// built with GOOS=js GOARCH=wasm it is a Cloudflare Worker (serve_worker.go)
// that answers the API while Workers Static Assets serves public/.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"runtime"
	"strconv"
	"strings"
)

// embedPage is the one page that other sites may put in an <iframe>.
// Cloudflare's assets server drops the .html (it redirects /embed.html to
// /embed), so both spellings get the embed policy.
const embedPage = "/embed.html"

// pagePolicy is the Content-Security-Policy of every response except the
// embed page: scripts and wasm only from this origin ('wasm-unsafe-eval'
// allows WebAssembly compilation and nothing else), the training Web Worker
// from this origin, no plugins, and no framing by anyone.
const pagePolicy = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
	"connect-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; manifest-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// embedPolicy is pagePolicy except that any http(s) site may frame the page.
const embedPolicy = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
	"connect-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; manifest-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors *"

// isEmbedPath reports whether urlPath is the embeddable page.
func isEmbedPath(urlPath string) bool {
	return urlPath == embedPage || urlPath == strings.TrimSuffix(embedPage, ".html")
}

// securityHeaders returns the headers every response for urlPath carries.
// public/_headers states the same policy for Workers Static Assets;
// serve_test.go checks that the two agree.
func securityHeaders(urlPath string) http.Header {
	h := http.Header{}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if isEmbedPath(urlPath) {
		h.Set("Content-Security-Policy", embedPolicy)
	} else {
		h.Set("Content-Security-Policy", pagePolicy)
		h.Set("X-Frame-Options", "DENY")
	}
	return h
}

// newHandler returns the whole site: the API under fixed paths and, when
// public is not nil, the files under public for every other GET or HEAD.
// host names the environment in /healthz ("local" or "worker").
func newHandler(public *os.Root, host string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, health{OK: true, Go: runtime.Version(), Host: host})
	})
	if public != nil {
		mux.Handle("/", &staticFiles{root: public})
	} else {
		mux.Handle("/", http.NotFoundHandler())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range securityHeaders(r.URL.Path) {
			w.Header()[k] = v
		}
		mux.ServeHTTP(w, r)
	})
}

// health is the body of GET /healthz.
type health struct {
	OK   bool   `json:"ok"`
	Go   string `json:"go"`
	Host string `json:"host"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding the response failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// staticFiles serves regular files below root. os.Root refuses every name
// that resolves outside the folder, symlinks included; siteFileName
// additionally refuses names a browser would never ask for.
type staticFiles struct {
	root *os.Root
}

// contentTypes fixes the types of what the site serves, independent of the
// host's /etc/mime.types; anything else falls back to the mime package.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".wasm": "application/wasm",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
}

// contentType returns the Content-Type of the file name by its extension.
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// encodings are the precompressed variants build.sh writes beside a file,
// in order of preference.
var encodings = []struct{ name, suffix string }{
	{"br", ".br"},
	{"gzip", ".gz"},
}

func (s *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := siteFileName(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	f, info, err := s.openRegular(name)
	if err != nil {
		// Missing, a directory, or outside the folder: all look the same.
		http.NotFound(w, r)
		return
	}
	defer f.Close()

	h := w.Header()
	h.Set("Content-Type", contentType(name))
	// no-cache: the browser keeps its copy but asks every time; an unchanged
	// file costs a 304 thanks to ETag / Last-Modified.
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Accept-Encoding")

	body, modTime, etag := f, info.ModTime(), fileETag(info, "")
	for _, enc := range encodings {
		if !acceptsEncoding(r.Header.Values("Accept-Encoding"), enc.name) {
			continue
		}
		cf, cinfo, err := s.openRegular(name + enc.suffix)
		if err != nil {
			continue
		}
		if cinfo.ModTime().Before(info.ModTime()) {
			// Older than the file it compresses: a leftover of an earlier build.
			cf.Close()
			continue
		}
		defer cf.Close()
		h.Set("Content-Encoding", enc.name)
		body, modTime, etag = cf, cinfo.ModTime(), fileETag(cinfo, "-"+enc.name)
		break
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", modTime, body)
}

// errNotRegular reports a name that exists but is no regular file (a
// directory, device or socket): never listed, never served.
var errNotRegular = errors.New("not a regular file")

func (s *staticFiles) openRegular(name string) (*os.File, fs.FileInfo, error) {
	f, err := s.root.Open(name)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, errNotRegular
	}
	return f, info, nil
}

// siteFileName maps a URL path to a file name relative to public/: "/" and
// any path ending in "/" mean its index.html. It refuses empty, "." and ".."
// segments (so nothing climbs out or names an absolute path), hidden files,
// Cloudflare's control files (_headers) and names with a backslash or NUL.
func siteFileName(urlPath string) (string, bool) {
	if !strings.HasPrefix(urlPath, "/") {
		return "", false
	}
	name := urlPath[1:]
	if name == "" || strings.HasSuffix(name, "/") {
		name += "index.html"
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg[0] == '.' || seg[0] == '_' || strings.ContainsAny(seg, "\\\x00") {
			return "", false
		}
	}
	return name, true
}

// fileETag derives a validator from size and modification time, the pair
// that changes whenever build.sh rewrites a file; suffix tells the
// compressed representations apart.
func fileETag(info fs.FileInfo, suffix string) string {
	return fmt.Sprintf(`"%x-%x%s"`, info.ModTime().UnixNano(), info.Size(), suffix)
}

// acceptsEncoding reports whether the Accept-Encoding header values allow
// coding with a non-zero quality, either by name or through "*".
func acceptsEncoding(values []string, coding string) bool {
	starQ, named := -1.0, -1.0
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			token, params, _ := strings.Cut(strings.TrimSpace(item), ";")
			token = strings.ToLower(strings.TrimSpace(token))
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					parsed, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
					if err != nil || parsed < 0 || parsed > 1 {
						parsed = 0
					}
					q = parsed
				}
			}
			switch token {
			case coding:
				named = q
			case "*":
				starQ = q
			}
		}
	}
	if named >= 0 {
		return named > 0
	}
	return starQ > 0
}
