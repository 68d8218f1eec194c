package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"dpoplayground/testdata"
)

// With -sft-steps 0, -init's folder is both the start of the policy and the
// frozen reference: the run is step for step the one that names the folder
// as -policy and -ref. With SFT steps, SFT starts from it: the first SFT
// loss is that folder's, not a random model's.
func TestTrainInitIsPolicyAndReference(t *testing.T) {
	g, err := testdata.Load()
	if err != nil {
		t.Fatal(err)
	}
	data := goldenData(t, g)
	dir := t.TempDir()
	initOut, _ := runOK(t, "train", "-init", goldenDir+"/reference", "-data", data, "-steps", "3",
		"-lr", "1e-2", "-out", filepath.Join(dir, "a"), "-json")
	bothOut, _ := runOK(t, "train", "-policy", goldenDir+"/reference", "-ref", goldenDir+"/reference", "-data", data,
		"-steps", "3", "-lr", "1e-2", "-out", filepath.Join(dir, "b"), "-json")
	if initOut != bothOut {
		t.Errorf("-init differs from -policy D -ref D:\n%s\nagainst\n%s", initOut, bothOut)
	}
	if n := strings.Count(initOut, "\n"); n != 3 {
		t.Errorf("%d JSON lines, want 3", n)
	}

	sftInit, _ := runOK(t, "train", "-init", goldenDir+"/reference", "-data", data, "-sft-steps", "1", "-steps", "1",
		"-out", filepath.Join(dir, "c"), "-json")
	sftRandom, _ := runOK(t, "train", "-data", data, "-sft-steps", "1", "-steps", "1",
		"-out", filepath.Join(dir, "d"), "-json")
	first := func(s string) string { return s[:strings.Index(s, "\n")] }
	if first(sftInit) == first(sftRandom) {
		t.Errorf("the first SFT step from -init equals the one from random weights: %s", first(sftInit))
	}

	var out, errb bytes.Buffer
	if code := run([]string{"train", "-init", goldenDir + "/reference", "-ref", goldenDir + "/reference",
		"-data", data, "-out", filepath.Join(dir, "e")}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "-init") {
		t.Errorf("-init with -ref: exit %d, stderr %q; want an error naming -init", code, errb.String())
	}
}
