//go:build !js

package protocol

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// worker.wasm is downloaded by every visitor next to app.wasm, so it must
// not pull in the UI framework, the UI or the Cloudflare host library.
func TestWorkerWasmImportsNoUI(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "dpoplayground/wasm/worker")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps printed only %q", deps)
	}
	for _, dep := range deps {
		for _, banned := range []string{"github.com/vugu/", "github.com/syumai/", "dpoplayground/ui"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("wasm/worker depends on %s", dep)
			}
		}
	}
}
