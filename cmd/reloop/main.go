// Command reloop rewrites the control flow of a Go WebAssembly binary's
// functions so that their loops are WebAssembly loops.
//
// Go's compiler sends every jump between a function's basic blocks through
// a br_table dispatch at the head of one loop around the whole function
// (see reloop.go). reloop gives each selected function a second copy of
// its code with the same instructions and direct, structured branches,
// taken on every ordinary call; the original stays for resuming a
// goroutine in the middle of the function. In that copy, a constant added
// to an address just before a float load becomes the load's offset, as Go
// already does for integer loads. The result computes exactly what the
// input did.
//
// Usage:
//
//	reloop [-prefix dpoplayground/core/] [-o out.wasm] [-v] [-q] in.wasm
//
// Without -o the file is rewritten in place. Functions whose names start
// with one of the comma-separated prefixes are rewritten; those whose shape
// reloop does not recognise are left alone (-v lists them and why).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	prefix := flag.String("prefix", "dpoplayground/core/", "comma-separated prefixes of the names of the functions to rewrite")
	outPath := flag.String("o", "", "output file (default: rewrite the input in place)")
	verbose := flag.Bool("v", false, "list the functions left alone, and why")
	quiet := flag.Bool("q", false, "print nothing but errors")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: reloop [-prefix p1,p2] [-o out.wasm] [-v] [-q] in.wasm")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	in := flag.Arg(0)
	b, err := os.ReadFile(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reloop:", err)
		os.Exit(1)
	}
	var log io.Writer
	if *verbose {
		log = os.Stderr
	}
	out, st, err := rewrite(b, strings.Split(*prefix, ","), log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "reloop: %s: %v\n", in, err)
		os.Exit(1)
	}
	dst := *outPath
	if dst == "" {
		dst = in
	}
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "reloop:", err)
		os.Exit(1)
	}
	if *quiet {
		return
	}
	fmt.Printf("reloop %s: %d of %d functions rewritten (%d left alone), %d float loads folded, %d → %d bytes\n",
		in, st.rewritten, st.selected, st.selected-st.rewritten, st.folded, len(b), len(out))
}

type stats struct{ selected, rewritten, folded int }

// rewrite relooped the functions of module b whose names start with one of
// prefixes.
func rewrite(b []byte, prefixes []string, log io.Writer) ([]byte, stats, error) {
	var st stats
	secs, err := readModule(b)
	if err != nil {
		return nil, st, err
	}
	imported, code := 0, -1
	var names map[uint32]string
	for i, s := range secs {
		switch s.id {
		case 2:
			if imported, err = importedFuncs(s.payload); err != nil {
				return nil, st, fmt.Errorf("import section: %w", err)
			}
		case 10:
			code = i
		case 0:
			r := &reader{b: s.payload}
			if name := string(r.bytes(int(r.u32()))); r.err == nil && name == "name" {
				if names, err = funcNames(s.payload[r.pos:]); err != nil {
					return nil, st, fmt.Errorf("name section: %w", err)
				}
			}
		}
	}
	if code < 0 {
		return nil, st, errors.New("no code section")
	}
	if names == nil {
		return nil, st, errors.New("no function names (was the binary stripped of its name section?)")
	}
	noReturn := map[uint32]bool{}
	for idx, name := range names {
		if neverReturns(name) {
			noReturn[idx] = true
		}
	}
	r := &reader{b: secs[code].payload}
	n := r.u32()
	payload := appendU32(nil, n)
	for i := uint32(0); i < n; i++ {
		body := r.bytes(int(r.u32()))
		if r.err != nil {
			return nil, st, fmt.Errorf("code section: %w", r.err)
		}
		name := names[uint32(imported)+i]
		if selected(name, prefixes) {
			st.selected++
			if nb, folded, err := reloopBody(body, noReturn); err != nil {
				if log != nil {
					fmt.Fprintf(log, "left alone: %s: %v\n", name, err)
				}
			} else {
				body = nb
				st.rewritten++
				st.folded += folded
			}
		}
		payload = appendU32(payload, uint32(len(body)))
		payload = append(payload, body...)
	}
	secs[code].payload = payload
	return writeModule(secs), st, nil
}

// neverReturns reports whether the Go runtime function of this name never
// returns normally: it panics or aborts. Go calls these where a bounds,
// nil or conversion check fails.
func neverReturns(name string) bool {
	if strings.HasPrefix(name, "runtime.goPanic") {
		return true
	}
	switch name {
	case "runtime.gopanic", "runtime.throw", "runtime.fatal", "runtime.fatalpanic", "runtime.fatalthrow",
		"runtime.sigpanic", "runtime.panicmem", "runtime.panicdivide", "runtime.panicshift", "runtime.panicwrap",
		"runtime.panicnildottype", "runtime.panicdottypeE", "runtime.panicdottypeI",
		"runtime.panicmakeslicecap", "runtime.panicmakeslicelen", "runtime.panicrangestate",
		"runtime.panicunsafeslicelen", "runtime.panicunsafeslicelen1", "runtime.panicunsafeslicenilptr",
		"runtime.panicunsafeslicenilptr1", "runtime.panicunsafestringlen", "runtime.panicunsafestringnilptr":
		return true
	}
	return false
}

func selected(name string, prefixes []string) bool {
	for _, p := range prefixes {
		// Go's linker writes a name's slashes as underscores.
		if p != "" && strings.HasPrefix(name, strings.ReplaceAll(p, "/", "_")) {
			return true
		}
	}
	return false
}

func reloopBody(body []byte, noReturn map[uint32]bool) ([]byte, int, error) {
	locals, expr, err := splitBody(body)
	if err != nil {
		return nil, 0, err
	}
	ne, folded, err := reloopExpr(expr, noReturn)
	if err != nil {
		return nil, 0, err
	}
	return append(append([]byte{}, locals...), ne...), folded, nil
}
