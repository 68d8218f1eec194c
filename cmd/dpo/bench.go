package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"

	"dpoplayground/core/bench"
)

// cmdBench runs the speed benchmark natively (see package bench) and prints
// a table, the report as JSON, or, with -compare, the native figures beside
// a browser report written by public/bench.html (window.benchResult).
func cmdBench(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", stderr)
	preset := fs.String("preset", "micro", "model preset: nano, micro (the bench config) or small")
	asJSON := fs.Bool("json", false, "print the report as JSON (the shape of window.benchResult)")
	runs := fs.Int("runs", 0, "timed steps of each kind (0: the config's 15)")
	kernels := fs.Bool("kernels", true, "also time each kernel at the model's shapes")
	compare := fs.String("compare", "", "a browser report (JSON) to print beside this machine's figures")
	if err := parse(fs, args); err != nil {
		return err
	}
	o, err := bench.Config(*preset)
	if err != nil {
		return err
	}
	if *runs != 0 {
		o.Runs = *runs
	}
	o.Kernels = *kernels
	var browser *bench.Report
	if *compare != "" {
		b, err := os.ReadFile(*compare)
		if err != nil {
			return err
		}
		browser = new(bench.Report)
		if err := json.Unmarshal(b, browser); err != nil {
			return fmt.Errorf("%s: %w", *compare, err)
		}
	}
	res, err := bench.Run(o)
	if err != nil {
		return err
	}
	rep := &bench.Report{Platform: runtime.GOOS + "/" + runtime.GOARCH, Results: []bench.Result{*res}}
	switch {
	case browser != nil:
		return bench.WriteComparison(stdout, rep, browser)
	case *asJSON:
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "bench config: %s model (%d parameters), %d pairs of %d-token sequences, %d-token responses; %d timed steps\n",
		o.Preset, res.Params, o.Pairs, o.SeqLen, o.Response, o.Runs)
	return bench.WriteTable(stdout, rep)
}
