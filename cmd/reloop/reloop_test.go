package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildLoops compiles testdata/loops to WebAssembly.
func buildLoops(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "loops.wasm")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/loops")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runNode runs a Go WebAssembly program under Node.js with Go's own
// wasm_exec_node.js and returns its output.
func runNode(t *testing.T, wasm []byte) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: it runs the WebAssembly programs")
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "prog.wasm")
	if err := os.WriteFile(path, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec_node.js"), path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	return string(out)
}

// The rewritten program prints what the original prints, natively and in
// WebAssembly, and almost every function of it was rewritten.
func TestReloopedProgramRunsTheSame(t *testing.T) {
	native, err := exec.Command("go", "run", "./testdata/loops").CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, native)
	}
	orig := buildLoops(t)
	var log bytes.Buffer
	out, st, err := rewrite(orig, []string{"main."}, &log)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d functions rewritten; left alone:\n%s", st.rewritten, st.selected, log.String())
	// All but the goroutine's wrapper (main.main.gowrap1), which has no
	// branches at all.
	if st.selected < 12 || st.rewritten != st.selected-1 {
		t.Errorf("%d of %d functions rewritten, want all but one", st.rewritten, st.selected)
	}
	if bytes.Equal(out, orig) {
		t.Fatal("the rewritten module equals the original")
	}
	// tile and softmax load floats at constant offsets.
	if st.folded == 0 {
		t.Error("no float load folded")
	}
	wantOut := string(native)
	for _, want := range []string{"labelled 3\n", "gotos 196930\n", "collatz 2919 216\n", "recovered 162 3\n", "pipeline 235 33\n", "fib 17711\n"} {
		if !strings.Contains(wantOut, want) {
			t.Fatalf("native output lacks %q:\n%s", want, wantOut)
		}
	}
	if got := runNode(t, orig); got != wantOut {
		t.Fatalf("Go's WebAssembly printed\n%s\nnatively\n%s", got, wantOut)
	}
	if got := runNode(t, out); got != wantOut {
		t.Errorf("the rewritten WebAssembly printed\n%s\nwant\n%s", got, wantOut)
	}
}

// Rewriting is deterministic, and functions that are not selected keep
// their bytes.
func TestRewriteIsDeterministicAndSelective(t *testing.T) {
	orig := buildLoops(t)
	a, _, err := rewrite(orig, []string{"main."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := rewrite(orig, []string{"main."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two rewrites of the same module differ")
	}
	none, st, err := rewrite(orig, []string{"no.such.package."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.selected != 0 {
		t.Errorf("selected %d functions, want 0", st.selected)
	}
	// With nothing rewritten, the sections are the same; only the
	// encoding of section sizes may differ (Go pads them).
	secsA, err := readModule(orig)
	if err != nil {
		t.Fatal(err)
	}
	secsB, err := readModule(none)
	if err != nil {
		t.Fatal(err)
	}
	if len(secsA) != len(secsB) {
		t.Fatalf("%d sections, want %d", len(secsB), len(secsA))
	}
	for i := range secsA {
		if secsA[i].id != secsB[i].id || !bytes.Equal(secsA[i].payload, secsB[i].payload) {
			t.Errorf("section %d (id %d) changed", i, secsA[i].id)
		}
	}
}

// A damaged module is an error, never a crash.
func TestDamagedModules(t *testing.T) {
	orig := buildLoops(t)
	for _, n := range []int{0, 4, 8, 9, 100, len(orig) / 3, len(orig) / 2, len(orig) - 1} {
		if _, _, err := rewrite(orig[:n], []string{"main."}, nil); err == nil {
			t.Errorf("a module cut to %d bytes: no error", n)
		}
	}
	bad := bytes.Clone(orig)
	copy(bad, "\x00asm\x02")
	if _, _, err := rewrite(bad, nil, nil); err == nil {
		t.Error("version 2: no error")
	}
}

func FuzzRewrite(f *testing.F) {
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Add([]byte("\x00asm\x01\x00\x00\x00\x0a\x04\x01\x02\x00\x0b"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rewrite(b, []string{""}, nil) // must not panic
		if s, err := parseShape(b); err == nil {
			for j := range s.insts {
				s.foldable(j, len(s.insts))
			}
			if fl, err := analyze(s, nil); err == nil {
				if l, err := fl.structure(); err == nil {
					fl.emit(l)
				}
			}
		}
	})
}

func TestLEB(t *testing.T) {
	for _, v := range []uint32{0, 1, 63, 64, 127, 128, 255, 16383, 16384, 1 << 21, 1<<32 - 1} {
		b := appendU32(nil, v)
		r := &reader{b: b}
		if got := r.u32(); got != v || r.err != nil || r.pos != len(b) {
			t.Errorf("u32 %d: got %d, %v, %d of %d bytes", v, got, r.err, r.pos, len(b))
		}
	}
	for _, c := range []struct {
		b    []byte
		want int64
	}{{[]byte{0x7f}, -1}, {[]byte{0x3f}, 63}, {[]byte{0x40}, -64}, {[]byte{0xc0, 0x00}, 64}, {[]byte{0x80, 0x7f}, -128}} {
		r := &reader{b: c.b}
		if got := r.sleb(32); got != c.want || r.err != nil {
			t.Errorf("sleb % x: got %d (%v), want %d", c.b, got, r.err, c.want)
		}
	}
}
