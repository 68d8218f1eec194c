package ui

// App's actions for how many Web Workers split each step.

import (
	"fmt"
	"strconv"
	"strings"
)

// Cores is the number of logical processors the browser reports.
func (a *App) Cores() int { return max(a.Host.Cores(), 1) }

// batchPairs is the number of pairs in a step's batch of the draft.
func (a *App) batchPairs() int {
	n := a.Check.Pairs
	if b := a.Draft.BatchSize; b > 0 && b < n {
		n = b
	}
	return n
}

// DefaultWorkers is the number of workers a run uses unless the person
// chose one: the cores but one, at most defaultWorkers and at most a
// batch's pairs, and at least 1 (1 when a batch has a single pair: there
// is nothing to share). One core is left to the page's own thread: with
// as many busy workers as cores its renders wait for the CPU (on two
// cores, main-thread tasks of 90–170 ms while training, against under
// 90 ms with one worker).
func (a *App) DefaultWorkers() int {
	return max(min(a.Cores()-1, defaultWorkers, a.batchPairs()), 1)
}

// DraftWorkers is the number of workers the next run asks for.
func (a *App) DraftWorkers() int {
	if a.Draft.CouplesBatch() { // aot sorts the whole batch: it cannot be split
		return 1
	}
	if a.Workers > 0 {
		return min(a.Workers, a.Cores())
	}
	return a.DefaultWorkers()
}

// WorkersText is the workers control's text.
func (a *App) WorkersText() string {
	if a.workersErr != "" {
		return a.workersText
	}
	return strconv.Itoa(a.DraftWorkers())
}

// WorkersError is what is wrong with the workers control's text, or "".
func (a *App) WorkersError() string { return a.workersErr }

// SetWorkers takes the workers control's new text: a whole number from 1
// to the cores, kept in this browser (not in the share link).
func (a *App) SetWorkers(text string) {
	a.formRev++
	n, err := strconv.Atoi(strings.TrimSpace(text))
	switch {
	case err != nil:
		a.workersText, a.workersErr = text, fmt.Sprintf("enter a whole number from 1 to %d", a.Cores())
		return
	case n < 1 || n > a.Cores():
		a.workersText, a.workersErr = text, fmt.Sprintf("must be from 1 to %d (this device's cores)", a.Cores())
		return
	}
	a.Workers, a.workersText, a.workersErr = n, "", ""
	if !a.Embed {
		a.Host.Store(workersKey, strconv.Itoa(n))
	}
}
