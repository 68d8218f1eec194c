//go:build ignore

// gen_vugu_render writes vugu's DOM helper script (the constant
// jsHelperScript of github.com/vugu/vugu/domrender, in the version go.mod
// pins) to a .js file, so that the page can load it as a script instead of
// letting domrender eval it, which the site's CSP forbids (see public/app.js).
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
	return os.WriteFile(out, []byte(script+"\n"), 0o644)
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
