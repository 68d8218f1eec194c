package ui

// App's actions for the per-pair table and the shaded detail of one pair.

import (
	"time"

	"dpoplayground/core/data"
	"dpoplayground/wasm/worker/protocol"
)

// SelectPair shows pair i shaded.
func (a *App) SelectPair(i int) {
	if i < 0 || i >= len(a.Pairs) {
		return
	}
	a.Selected = i
	if a.Detail != nil && a.Detail.Index != i {
		a.Detail = nil
	}
	a.detail.pending = false
	a.requestDetail(a.Host.Now())
	if a.Sample.Prompt == "" {
		a.SampleAgain() // the samples follow the selected pair's prompt
	}
}

func (a *App) requestDetail(now time.Time) {
	r := a.Live
	if r == nil || r.Info == nil || a.UnpairedRows() || a.Selected < 0 || a.Selected >= len(a.Pairs) || a.detail.pending || a.Hidden("pairs") {
		return
	}
	a.Host.Post(protocol.PairRequest{Run: r.ID, Index: a.Selected})
	a.detail = request{pending: true, at: now}
}

// setExampleRows starts the table over with unpaired examples: each row
// one completion and its label.
func (a *App) setExampleRows(examples []data.Example) {
	a.Pairs = make([]PairRow, len(examples))
	for i, e := range examples {
		a.Pairs[i] = PairRow{Index: i, Prompt: e.Prompt, Unpaired: true, Completion: e.Completion, Label: e.Label}
	}
	if a.Selected < 0 || a.Selected >= len(a.Pairs) {
		a.Selected = 0
	}
	a.PairPage = min(a.PairPage, max(0, a.PageCount()-1))
}

// UnpairedRows says whether the table lists unpaired examples.
func (a *App) UnpairedRows() bool { return len(a.Pairs) > 0 && a.Pairs[0].Unpaired }

// SelectedExample is the selected row when the table lists unpaired examples.
func (a *App) SelectedExample() (PairRow, bool) {
	if !a.UnpairedRows() || a.Selected < 0 || a.Selected >= len(a.Pairs) {
		return PairRow{}, false
	}
	return a.Pairs[a.Selected], true
}

// PageRows are the pair table's rows on the current page.
func (a *App) PageRows() []PairRow {
	lo := min(a.PairPage*pairPageSize, len(a.Pairs))
	return a.Pairs[lo:min(lo+pairPageSize, len(a.Pairs))]
}

// PageCount is the number of pages of the pair table.
func (a *App) PageCount() int { return (len(a.Pairs) + pairPageSize - 1) / pairPageSize }

// SetPairPage shows another page of the table.
func (a *App) SetPairPage(p int) {
	if p >= 0 && p < a.PageCount() {
		a.PairPage = p
	}
}

// OrderedRight counts the pairs ordered right and the pairs with rewards.
func (a *App) OrderedRight() (right, known int) {
	for _, p := range a.Pairs {
		if p.Known {
			known++
			if p.Right() {
				right++
			}
		}
	}
	return right, known
}

// DetailView is the selected pair's two responses, shaded on one scale.
func (a *App) DetailView() (chosen, rejected Shaded, scale float64, ok bool) {
	d := a.Detail
	if d == nil || d.Index != a.Selected {
		return Shaded{}, Shaded{}, 0, false
	}
	scale = ShadeScale(d.Chosen, d.Rejected)
	return Shade(d.Chosen, scale), Shade(d.Rejected, scale), scale, true
}

// Beta is the live run's β (the draft's before any run).
func (a *App) Beta() float64 {
	if a.Live != nil {
		return a.Live.Settings.Beta
	}
	return a.Draft.Beta
}
