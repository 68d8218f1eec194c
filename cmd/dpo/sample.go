package main

import (
	"fmt"
	"io"

	"dpoplayground/core/gpt"
)

func cmdSample(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sample", stderr)
	modelDir := fs.String("model", "", "model folder")
	prompt := fs.String("prompt", "", "text to continue (a trailing newline is not added)")
	var cfg gpt.SampleConfig
	fs.Float64Var(&cfg.Temperature, "temperature", 0, "0 is greedy; higher is more random")
	fs.IntVar(&cfg.TopK, "top-k", 0, "sample among the k most likely bytes (0: all)")
	fs.IntVar(&cfg.MaxTokens, "max-tokens", 64, "most bytes to generate")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "random seed")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "model"); err != nil {
		return err
	}
	p, err := gpt.LoadDir(*modelDir)
	if err != nil {
		return err
	}
	ids, err := gpt.Generate(p, []byte(*prompt), cfg)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, gpt.Text(ids))
	return err
}
