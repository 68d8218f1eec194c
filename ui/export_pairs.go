package ui

import (
	"bytes"
	"encoding/json"
	"fmt"

	"dpoplayground/core/data"
)

// PairsJSONL writes pairs in TRL's preference format, one JSON object per
// line with "prompt", "chosen" and "rejected".
func PairsJSONL(pairs []data.Pair) []byte {
	var b bytes.Buffer
	for _, p := range pairs {
		line, _ := json.Marshal(struct {
			Prompt   string `json:"prompt"`
			Chosen   string `json:"chosen"`
			Rejected string `json:"rejected"`
		}{p.Prompt, p.Chosen, p.Rejected})
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ExportPairs downloads the pairs as TRL JSONL (pairs.jsonl): the pairs
// box's, labelled ones included, then the live run's judged pairs.
func (a *App) ExportPairs() {
	ds, err := a.draftDataset()
	if err != nil {
		a.ExportNote = "The pairs have errors: fix them before exporting."
		return
	}
	pairs := append(ds.Pairs[:len(ds.Pairs):len(ds.Pairs)], a.judgedPairs...) // ds is the cached parse: never append into it
	a.Host.Download("pairs.jsonl", "application/jsonl", PairsJSONL(pairs))
	_, l, _ := a.PairSources()
	a.ExportNote = fmt.Sprintf("Saved pairs.jsonl: %s (%d labelled, %d judged), TRL's prompt/chosen/rejected format.",
		plural(len(pairs), "pair", "pairs"), l, len(a.judgedPairs))
}
