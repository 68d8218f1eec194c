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

// Summary counts the pairs ordered right.
func (c *PairsPanel) Summary() string {
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
	if row.Index == c.App.Selected {
		return "selected"
	}
	return ""
}

func (c *PairsPanel) PageText() string {
	return fmt.Sprintf("page %d of %d", c.App.PairPage+1, c.App.PageCount())
}
