// Package testdata embeds the reference numbers that PyTorch and Hugging Face
// transformers computed for the byte-level GPT-2 of this project
// (gpt2-byte-public/, written by gen_golden.py beside it). Tests import it so
// that the same files are read natively and inside the browser, where GOOS=js
// tests have no file system.
package testdata

import (
	"embed"
	"io/fs"
)

//go:embed gpt2-byte-public
var files embed.FS

// Golden returns the gpt2-byte-public folder: golden.json, policy/,
// reference/, grad_sigmoid.safetensors, policy_after_3_adamw_steps.safetensors.
func Golden() fs.FS {
	sub, err := fs.Sub(files, "gpt2-byte-public")
	if err != nil {
		panic("testdata: " + err.Error())
	}
	return sub
}
