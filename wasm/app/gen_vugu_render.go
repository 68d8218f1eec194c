//go:build ignore

// gen_vugu_render writes vugu's DOM helper script (the constant
// jsHelperScript of github.com/vugu/vugu/domrender, in the version go.mod
// pins) to a .js file, so that the page can load it as a script instead of
// letting domrender eval it, which the site's CSP forbids (see public/app.js).
//
// It also patches the script so that re-rendering leaves unchanged DOM
// alone. Vugu re-sends every attribute, property, text and static
// innerHTML of the whole page on each render, and the script writes them
// all; during training the page renders every animation frame, and those
// writes (re-parsed innerHTML above all) made the browser restyle the page
// each time, lose text selections and restart hover states. Each patch
// compares before writing; see patches.
//
// Usage, from the repository root: go run wasm/app/gen_vugu_render.go OUT.js
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run wasm/app/gen_vugu_render.go OUT.js")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gen_vugu_render:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/vugu/vugu").Output()
	if err != nil {
		return fmt.Errorf("locating the vugu module (go list -m): %w", err)
	}
	src := filepath.Join(strings.TrimSpace(string(dir)), "domrender", "renderer-js-script.go")
	file, err := parser.ParseFile(token.NewFileSet(), src, nil, 0)
	if err != nil {
		return err
	}
	script, err := findConst(file, "jsHelperScript")
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	if !strings.HasPrefix(script, "(function(){if(window.vuguRender)return;") {
		return fmt.Errorf("%s: jsHelperScript no longer starts with the guard public/app.js relies on", src)
	}
	script, err = patch(script)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	return os.WriteFile(out, []byte(script+"\n"), 0o644)
}

// patches are exact rewrites of the minified jsHelperScript of vugu
// v0.4.0 (x is the renderer's state, x.el the current node); each must
// match exactly once, so a vugu upgrade that changes the script fails the
// build here instead of silently dropping a patch.
var patches = []struct{ name, old, new string }{
	{"set attributes only when they differ",
		`e.setAttribute(t,n),x.elAttrNames[t]=!0`,
		`e.getAttribute(t)!==n&&e.setAttribute(t,n),x.elAttrNames[t]=!0`},
	{"set namespaced (SVG) attributes only when they differ",
		`t.setAttributeNS(e,n,s),x.elAttrNames[n]=!0`,
		`t.getAttributeNS(e,n)!==s&&t.setAttributeNS(e,n,s),x.elAttrNames[n]=!0`},
	{"set properties (value, checked) only when they differ, so typing is never overwritten",
		`e[t]=JSON.parse(n);break}`,
		`n=JSON.parse(n),e[t]!==n&&(e[t]=n);break}`},
	{"set text nodes only when they differ",
		`else x.el.textContent=e;break}case c:`,
		`else x.el.textContent!==e&&(x.el.textContent=e);break}case c:`},
	{"set innerHTML only when it differs from what was last set here",
		`x.el.innerHTML=(x.bufferedInnerHTML||"")+e,x.bufferedInnerHTML=null`,
		`e=(x.bufferedInnerHTML||"")+e,x.el.__vgHTML!==e&&(x.el.innerHTML=x.el.__vgHTML=e),x.bufferedInnerHTML=null`},
	{"forget that innerHTML when vugu syncs the element's children one by one",
		`throw"must have current selection to use opcodeMoveToFirstChild";x.nextElMove="first_child"`,
		`throw"must have current selection to use opcodeMoveToFirstChild";x.el.__vgHTML=void 0,x.nextElMove="first_child"`},
}

// patch applies patches to script.
func patch(script string) (string, error) {
	for _, p := range patches {
		if n := strings.Count(script, p.old); n != 1 {
			return "", fmt.Errorf("patch %q: found %d times, want once (did the vugu version change?)", p.name, n)
		}
		script = strings.Replace(script, p.old, p.new, 1)
	}
	return script, nil
}

// findConst returns the value of the string constant name in file.
func findConst(file *ast.File, name string) (string, error) {
	for _, decl := range file.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if id.Name != name || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return "", fmt.Errorf("constant %s is not a string literal", name)
				}
				return strconv.Unquote(lit.Value)
			}
		}
	}
	return "", fmt.Errorf("no constant %s", name)
}
