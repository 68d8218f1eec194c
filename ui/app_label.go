package ui

// App's actions for the Label panel: two answers of the policy to a prompt,
// a person's pick, and the picked pair joining the pairs and the live run.

import (
	"slices"
	"strconv"
	"strings"

	"dpoplayground/core/data"
	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// LabelState is the Label panel.
type LabelState struct {
	session.Labeller
	// Prompt is the panel's own prompt, chosen from the pairs' or typed;
	// "" labels the Samples panel's (app_label_keys.go).
	Prompt  string
	Err     string
	nextID  int
	pending int // the id of the request in flight, 0 for none
	seed    uint64
	// added counts, per label in History, the pairs it appended (so undo
	// knows what to take back).
	added []bool
}

// LabelSample asks the worker for two answers to the panel's prompt (the
// Samples panel's when none is chosen), at the Samples panel's
// temperature, from its seed onwards (each offer the next seed).
func (a *App) LabelSample() {
	r := a.Live
	if r == nil || r.Info == nil || a.Hidden("label") {
		return
	}
	prompt := a.LabelPrompt()
	if prompt == "" {
		a.Label.Err = "Choose a pair or type a prompt first."
		return
	}
	a.Label.nextID++
	req := session.LabelRequest{Prompt: prompt, Temperature: a.Sample.Temperature, MaxTokens: 48,
		Seed: a.Sample.Seed + a.Label.seed}
	a.Label.seed++
	a.Host.Post(protocol.LabelRequest{Run: r.ID, ID: a.Label.nextID, Request: req})
	a.Label.pending = a.Label.nextID
	a.Label.Err = ""
}

// applyLabel takes the worker's LabelOffer, PairsAdded or an Error about a
// label request.
func (a *App) applyLabel(msg protocol.Message) bool {
	switch m := msg.(type) {
	case protocol.LabelOffer:
		if a.live(m.Run) != nil && m.ID == a.Label.pending {
			a.Label.pending = 0
			a.Label.Show(m.LabelOffer)
		}
		return true
	case protocol.PairsAdded:
		if r := a.live(m.Run); r != nil && r.Info != nil {
			r.Info.Pairs = m.Pairs
		}
		return true
	case protocol.Error:
		if m.Request == "labelRequest" || m.Request == "addPairs" {
			a.Label.pending = 0
			a.Label.Err = m.Message
			return true
		}
	}
	return false
}

// LabelPick decides on the offer: "1", "2", "tie" or "skip". A pick of 1
// or 2 appends the pair to the pairs (marked labelled) and sends it to the
// live run, where it joins the next batch.
func (a *App) LabelPick(pick string) {
	if a.Label.Offer == nil {
		return
	}
	lb, err := a.Label.Pick(pick)
	if err != nil {
		a.Label.Err = err.Error()
		return
	}
	added := false
	if lb.Pair != nil {
		text, err := session.AppendPair(a.Draft.Pairs, *lb.Pair)
		if err != nil {
			a.Label.Undo()
			a.Label.Err = err.Error()
			return
		}
		n := len(a.Pairs)
		if ds, err := a.draftDataset(); err == nil {
			n = len(ds.Pairs)
		}
		a.setPairsKeepMarks(text)
		a.setLabelled(append(a.LabelledSet(), n+1))
		if r := a.Live; r != nil && r.Info != nil {
			a.Host.Post(protocol.AddPairs{Run: r.ID, Pairs: []data.Pair{*lb.Pair}})
		}
		a.Pairs = append(a.Pairs, PairRow{Index: len(a.Pairs), Prompt: lb.Pair.Prompt})
		added = true
		a.Notice = "Labelled pair added: it joins the run at the next step."
	}
	a.Label.added = append(a.Label.added, added)
	a.Label.Err = ""
	a.LabelSample()
}

// LabelUndo takes back the last label: its offer comes back on screen, and
// a pair it added leaves the pairs (a live run that already has it keeps
// it until Reset, as a run keeps the settings it started with).
func (a *App) LabelUndo() {
	lb, ok := a.Label.Undo()
	if !ok {
		return
	}
	a.Label.pending = 0
	added := a.Label.added[len(a.Label.added)-1]
	a.Label.added = a.Label.added[:len(a.Label.added)-1]
	if !added || lb.Pair == nil {
		return
	}
	marks := a.LabelledSet()
	ds, err := a.draftDataset()
	if err != nil || len(marks) == 0 || marks[len(marks)-1] != len(ds.Pairs) {
		return
	}
	// The last pair is the one added: rebuild the text without it.
	text, err := dropLastPair(a.Draft.Pairs, ds)
	if err != nil {
		a.Label.Err = err.Error()
		return
	}
	a.setPairsKeepMarks(text)
	a.setLabelled(marks[:len(marks)-1])
	if n := len(a.Pairs); n > 0 {
		a.Pairs = a.Pairs[:n-1]
	}
	a.Notice = "Label undone: the pair left the pairs (the live run keeps it until Reset)."
}

// dropLastPair cuts the text before the last pair's first line.
func dropLastPair(text string, ds *data.Dataset) (string, error) {
	last := ds.Pairs[len(ds.Pairs)-1].Line
	lines := strings.SplitAfter(text, "\n")
	if last < 1 || last > len(lines) {
		return text, nil
	}
	out := strings.TrimRight(strings.Join(lines[:last-1], ""), "\n") + "\n"
	return out, nil
}

// setPairsKeepMarks replaces the pairs text as the pairs box would, and
// makes the box show it.
func (a *App) setPairsKeepMarks(text string) {
	a.Draft.Pairs = text
	a.PresetName = ""
	a.pushText = true
	a.validateNow()
	a.scheduleSave()
}

// LabelledSet is the 1-based numbers of the labelled pairs, ascending.
func (a *App) LabelledSet() []int {
	var out []int
	for f := range strings.SplitSeq(a.Draft.Labelled, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (a *App) setLabelled(ns []int) {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	a.Draft.Labelled = strings.Join(parts, ",")
	a.scheduleSave()
}

// IsLabelled says whether pair i (0-based) was labelled in the Label panel.
func (a *App) IsLabelled(i int) bool { return slices.Contains(a.LabelledSet(), i+1) }

// LabelKey handles a key pressed on the page outside text fields: 1 and 2
// choose, t a tie, space skips, u undoes. It reports whether it used it.
func (a *App) LabelKey(key string) bool {
	if a.Hidden("label") {
		return false
	}
	switch strings.ToLower(key) {
	case "1":
		a.LabelPick(session.PickA)
	case "2":
		a.LabelPick(session.PickB)
	case "t":
		a.LabelPick(session.PickTie)
	case " ":
		a.LabelPick(session.PickSkip)
	case "u":
		a.LabelUndo()
	default:
		return false
	}
	return true
}
