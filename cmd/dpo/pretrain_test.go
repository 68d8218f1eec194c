package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dpoplayground/core/gpt"
)

func TestPretrainAndResume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "base")
	out, _ := runOK(t, "pretrain", "-out", dir, "-preset", "nano", "-steps", "6", "-batch", "4", "-warmup", "2",
		"-eval-every", "3", "-log-every", "3", "-f16")
	for _, want := range []string{"step 3/6", "step 6/6", "held-out", "tokens/s", "ETA", "as F16"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	p, err := gpt.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Cfg.NLayer != 1 {
		t.Fatalf("config %+v is not nano's", p.Cfg)
	}
	out, _ = runOK(t, "pretrain", "-out", dir, "-resume", dir, "-steps", "8", "-log-every", "1")
	if !strings.Contains(out, "from step 6") || !strings.Contains(out, "step 8/8") {
		t.Fatalf("resume output:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "pretrain.json")); err != nil {
		t.Fatal(err)
	}
}

func TestPretrainErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"pretrain"}, "-out is required"},
		{[]string{"pretrain", "-out", dir, "-preset", "huge"}, "preset"},
		{[]string{"pretrain", "-out", dir, "-steps", "0"}, "steps"},
		{[]string{"pretrain", "-out", dir, "-eval-every", "0"}, "-eval-every"},
		{[]string{"pretrain", "-out", dir, "-resume", dir, "-lr", "0.1"}, "-lr: a resumed run"},
		{[]string{"pretrain", "-out", dir, "-resume", dir}, "pretrain.json"},
	}
	for _, tc := range tests {
		var o, e strings.Builder
		if code := run(tc.args, &o, &e); code == 0 || !strings.Contains(e.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, e.String(), tc.want)
		}
	}
}
