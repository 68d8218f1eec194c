package ui

import (
	"fmt"
	"strings"

	"dpoplayground/wasm/worker/protocol"
)

// PairView is the signature view: the selected pair's answers with each
// byte shaded by log π − log π_ref.
type PairView struct {
	App *App

	chosen, rejected Shaded
	scale            float64
	ok               bool
	legend           []Glyph

	// shaded is the detail the fields above were computed from: a new
	// detail arrives about once a second, renders come ten times faster.
	shaded    *protocol.PairDetail
	shadedFor int
}

// BeforeBuild shades the selected pair, when it changed since the last render.
func (c *PairView) BeforeBuild() {
	if c.App.Detail == c.shaded && c.App.Selected == c.shadedFor && c.shaded != nil {
		return
	}
	c.shaded, c.shadedFor = c.App.Detail, c.App.Selected
	c.chosen, c.rejected, c.scale, c.ok = c.App.DetailView()
	if c.ok {
		c.legend = LegendStops(c.scale)
	}
}

// Waiting says what the view waits for.
func (c *PairView) Waiting() string {
	if c.App.Live == nil || c.App.Live.Info == nil {
		return "Press Train, Step or Reset: this pair's answers then appear here, each byte shaded by how far the policy moved it from the reference."
	}
	return "Loading the pair's log-probabilities…"
}

// Ready says whether the selected pair's log-probs have arrived.
func (c *PairView) Ready() bool { return c.ok }

func (c *PairView) Title() string {
	if c.App.Selected < 0 {
		return "Choose a pair"
	}
	if c.Example() != nil {
		return fmt.Sprintf("Example %d", c.App.Selected+1)
	}
	return fmt.Sprintf("Pair %d, byte by byte", c.App.Selected+1)
}

func (c *PairView) StepNote() string {
	d := c.App.Detail
	if c.App.Live != nil && d.Global <= c.App.Live.SFTSteps() {
		return fmt.Sprintf("at step %d (SFT: the reference is not frozen yet)", d.Global)
	}
	return fmt.Sprintf("at step %d", d.Global)
}

// Prompt is the prompt without its final newline.
func (c *PairView) Prompt() string { return strings.TrimRight(c.App.Detail.Prompt, "\n") }

// SumText is Σ log π − log π_ref and the implicit reward β·Σ.
func (c *PairView) SumText(s Shaded) string {
	t := fmt.Sprintf("Σ log π/π_ref = %s · reward β·Σ = %s", formatSigned(s.Sum), formatSigned(c.App.Beta()*s.Sum))
	if s.Truncated {
		t += " · cut to fit the context"
	}
	return t
}

func (c *PairView) ScaleText() string {
	return fmt.Sprintf("±%.3f nats per byte", c.scale)
}

// Example is the selected unpaired example, or nil when the table lists pairs.
func (c *PairView) Example() *PairRow {
	if row, ok := c.App.SelectedExample(); ok {
		return &row
	}
	return nil
}

// ExamplePrompt is the example's prompt without its final newline.
func (c *PairView) ExamplePrompt() string { return strings.TrimRight(c.Example().Prompt, "\n") }

// ExampleTag names the completion by its label, as the pair view names
// chosen and rejected answers.
func (c *PairView) ExampleTag() string {
	if c.Example().Label {
		return "desirable"
	}
	return "undesirable"
}

func (c *PairView) ExampleTagClass() string {
	if c.Example().Label {
		return "tag chosen"
	}
	return "tag rejected"
}

func (c *PairView) ExampleClass() string {
	if c.Example().Label {
		return "answer chosen-answer"
	}
	return "answer rejected-answer"
}

// ExampleLabel is the label as TRL writes it.
func (c *PairView) ExampleLabel() string {
	return fmt.Sprintf("label: %t", c.Example().Label)
}
