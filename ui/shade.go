package ui

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"dpoplayground/core/data"
	"dpoplayground/core/session"
)

// The signature view: every byte of a response shaded by
//
//	d = log π(byte | before) − log π_ref(byte | before)
//
// blue where the policy made the byte more likely than the reference did,
// orange where it made it less likely (a blue–orange diverging scale, which
// readers with any common colour-vision deficiency tell apart). The sum of
// d over a response is log π(y|x) − log π_ref(y|x); β times it is the
// response's implicit reward.

// ShadeLevels is the number of shades on each side of white.
const ShadeLevels = 4

// Glyph is one shaded character of a response: one UTF-8 character (its
// bytes' d summed), or the end-of-text token.
type Glyph struct {
	Text  string // what is shown: the character, "↵" for a newline, "⏎" for EOS
	Class string // CSS classes: "g s-p3" ... "g s-n2", plus "nl" or "eos"
	Title string // the per-byte values, for hover
	D     float64
}

// Shaded is one response ready to render.
type Shaded struct {
	Glyphs    []Glyph
	Sum       float64 // Σ d = log π(y|x) − log π_ref(y|x)
	Truncated bool
}

// ShadeScale is the |d| that gets the strongest shade for a pair: the
// largest |d| of either response, at least 0.05 so that the tiny
// differences right after SFT do not look like strong ones.
func ShadeScale(vs ...session.TokenView) float64 {
	m := 0.05
	for _, v := range vs {
		for i := range v.Bytes {
			if i < len(v.Policy) && i < len(v.Reference) {
				m = math.Max(m, math.Abs(float64(v.Policy[i]-v.Reference[i])))
			}
		}
	}
	return m
}

// shadeClass is the class of a value d on a scale whose strongest shade is
// at |d| = scale.
func shadeClass(d, scale float64) string {
	level := int(math.Round(d / scale * ShadeLevels))
	level = max(-ShadeLevels, min(ShadeLevels, level))
	switch {
	case level > 0:
		return fmt.Sprintf("s-p%d", level)
	case level < 0:
		return fmt.Sprintf("s-n%d", -level)
	}
	return "s-0"
}

// Shade turns a response's per-byte log-probs into glyphs.
func Shade(v session.TokenView, scale float64) Shaded {
	out := Shaded{Truncated: v.Truncated}
	n := min(len(v.Bytes), len(v.Policy), len(v.Reference))
	d := make([]float64, n)
	for i := range n {
		d[i] = float64(v.Policy[i] - v.Reference[i])
		out.Sum += d[i]
	}
	// The response's bytes, without EOS, to cut into characters.
	raw := make([]byte, 0, n)
	for i := 0; i < n && v.Bytes[i] != data.EOS; i++ {
		raw = append(raw, byte(v.Bytes[i]))
	}
	for i := 0; i < len(raw); {
		r, size := utf8.DecodeRune(raw[i:])
		g := Glyph{Text: string(raw[i : i+size])}
		if r == utf8.RuneError && size == 1 {
			g.Text = fmt.Sprintf("\\x%02x", raw[i])
		}
		var parts []string
		for k := i; k < i+size; k++ {
			g.D += d[k]
			parts = append(parts, fmt.Sprintf("byte 0x%02x: log π − log π_ref = %s (log π %.3f, log π_ref %.3f)",
				raw[k], formatSigned(d[k]), v.Policy[k], v.Reference[k]))
		}
		g.Class = "g " + shadeClass(g.D, scale)
		switch g.Text {
		case "\n":
			g.Text = "↵"
			g.Class += " nl"
		case "\t":
			g.Text = "⇥"
		case " ":
			g.Class += " sp"
		}
		g.Title = fmt.Sprintf("%q\n%s", string(raw[i:i+size]), strings.Join(parts, "\n"))
		out.Glyphs = append(out.Glyphs, g)
		i += size
	}
	if k := len(raw); k < n { // the final EOS
		g := Glyph{Text: "⏎", D: d[k], Class: "g eos " + shadeClass(d[k], scale)}
		g.Title = fmt.Sprintf("end of text (EOS)\nlog π − log π_ref = %s (log π %.3f, log π_ref %.3f)", formatSigned(d[k]), v.Policy[k], v.Reference[k])
		out.Glyphs = append(out.Glyphs, g)
	}
	return out
}

// Extremes describes in words where a response moved most, for readers who
// cannot see the shading: `most pushed up "4" (+1.2), most pushed down "5" (−0.8)`.
func (s Shaded) Extremes() string {
	if len(s.Glyphs) == 0 {
		return ""
	}
	hi, lo := 0, 0
	for i, g := range s.Glyphs {
		if g.D > s.Glyphs[hi].D {
			hi = i
		}
		if g.D < s.Glyphs[lo].D {
			lo = i
		}
	}
	name := func(g Glyph) string {
		if strings.Contains(g.Class, "eos") {
			return "end of text"
		}
		return fmt.Sprintf("%q", g.Text)
	}
	var parts []string
	if s.Glyphs[hi].D > 0 {
		parts = append(parts, fmt.Sprintf("most pushed up %s (%s)", name(s.Glyphs[hi]), formatSigned(s.Glyphs[hi].D)))
	}
	if s.Glyphs[lo].D < 0 {
		parts = append(parts, fmt.Sprintf("most pushed down %s (%s)", name(s.Glyphs[lo]), formatSigned(s.Glyphs[lo].D)))
	}
	if len(parts) == 0 {
		return "no byte moved yet"
	}
	return strings.Join(parts, ", ")
}

// LegendStops are the legend's swatches, strongest down to strongest up,
// with the d each stands for.
func LegendStops(scale float64) []Glyph {
	var out []Glyph
	for level := -ShadeLevels; level <= ShadeLevels; level++ {
		d := scale * float64(level) / ShadeLevels
		out = append(out, Glyph{Class: "sw " + shadeClass(d, scale), D: d, Text: formatSigned(d)})
	}
	return out
}
