package data

import (
	"embed"
)

//go:embed presets
var presetFiles embed.FS

// Preset is a ready-made dataset for the playground.
type Preset struct {
	Name        string // stable identifier, e.g. for a share link
	Title       string
	Description string
	// Text is the file as written, in one of the formats Parse reads, so a
	// preset also shows a format by example.
	Text string
}

// presetList is the order the playground offers them in, with the file
// under presets/ that holds each.
var presetList = []struct {
	file string
	Preset
}{
	{"seed.txt", Preset{Name: "seed", Title: "2 + 2 = 4",
		Description: "The DPO article's example: a plain right sum preferred over a wrong one followed by \"trust me!\"."}},
	{"arithmetic.jsonl", Preset{Name: "arithmetic", Title: "Honest arithmetic",
		Description: "Correct results stated plainly, preferred over wrong ones stated with confidence (JSONL)."}},
	{"politeness.txt", Preset{Name: "politeness", Title: "Politeness",
		Description: "Friendly answers to small requests (\"Of course\", \"Sure\"), preferred over rude ones."}},
	{"conciseness.jsonl", Preset{Name: "conciseness", Title: "Conciseness",
		Description: "Short answers preferred over the same answer behind \"Well, that is a great question!\" (JSONL)."}},
	{"secrets.jsonl", Preset{Name: "secrets", Title: "Keeping secrets",
		Description: "Polite refusals preferred over leaking passwords and keys (conversational JSONL)."}},
}

// Presets returns the playground's datasets, the seed article's example first.
func Presets() []Preset {
	out := make([]Preset, len(presetList))
	for i, p := range presetList {
		b, err := presetFiles.ReadFile("presets/" + p.file)
		if err != nil {
			panic("data: preset " + p.file + " is not embedded: " + err.Error())
		}
		out[i] = p.Preset
		out[i].Text = string(b)
	}
	return out
}
