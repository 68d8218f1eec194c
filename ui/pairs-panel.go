package ui

import (
	"fmt"
	"strconv"
	"strings"
)

// PairsPanel is the per-pair table and the selected pair's shaded view.
type PairsPanel struct {
	App *App
}

// Summary counts the pairs ordered right, or the unpaired examples of each label.
func (c *PairsPanel) Summary() string {
	if c.App.UnpairedRows() {
		d := 0
		for _, r := range c.App.Pairs {
			if r.Label {
				d++
			}
		}
		return fmt.Sprintf("%s: %d desirable, %d undesirable", plural(len(c.App.Pairs), "unpaired example", "unpaired examples"), d, len(c.App.Pairs)-d)
	}
	right, known := c.App.OrderedRight()
	if known == 0 {
		return plural(len(c.App.Pairs), "pair", "pairs")
	}
	return fmt.Sprintf("%d of %d ordered right", right, known)
}

func (c *PairsPanel) Number(row PairRow) string { return strconv.Itoa(row.Index + 1) }

// Prompt is the prompt on one line.
func (c *PairsPanel) Prompt(row PairRow) string {
	p := strings.Join(strings.Fields(row.Prompt), " ")
	if r := []rune(p); len(r) > 60 {
		p = string(r[:59]) + "…"
	}
	return p
}

func (c *PairsPanel) Reward(row PairRow, v float64) string {
	if !row.Known {
		return "—"
	}
	return formatSigned(v)
}

// OK is ✓ for a pair ordered right, ✗ for one ordered wrong.
func (c *PairsPanel) OK(row PairRow) string {
	switch {
	case !row.Known:
		return ""
	case row.Right():
		return "✓"
	}
	return "✗"
}

func (c *PairsPanel) OKClass(row PairRow) string {
	switch {
	case !row.Known:
		return "ok-col"
	case row.Right():
		return "ok-col right"
	}
	return "ok-col wrong"
}

func (c *PairsPanel) Selected(row PairRow) string {
	return strconv.FormatBool(row.Index == c.App.Selected)
}

func (c *PairsPanel) RowClass(row PairRow) string {
	class := ""
	switch {
	case row.Judged:
		class = "judged"
	case c.App.RowLabelled(row):
		class = "labelled"
	}
	if row.Index == c.App.Selected {
		class = strings.TrimSpace(class + " selected")
	}
	return class
}

func (c *PairsPanel) PageText() string {
	return fmt.Sprintf("page %d of %d", c.App.PairPage+1, c.App.PageCount())
}

// Completion is an unpaired example's completion on one line.
func (c *PairsPanel) Completion(row PairRow) string {
	p := strings.Join(strings.Fields(row.Completion), " ")
	if r := []rune(p); len(r) > 60 {
		p = string(r[:59]) + "…"
	}
	return p
}

// CompletionClass colours a completion as the pair table colours chosen
// (desirable) and rejected (undesirable) answers.
func (c *PairsPanel) CompletionClass(row PairRow) string {
	if row.Label {
		return "completion chosen"
	}
	return "completion rejected"
}

// Label is an unpaired example's label in words, TRL's true or false first.
func (c *PairsPanel) Label(row PairRow) string {
	if row.Label {
		return "true · desirable"
	}
	return "false · undesirable"
}

func (c *PairsPanel) LabelClass(row PairRow) string {
	if row.Label {
		return "label-col right"
	}
	return "label-col wrong"
}
