package ui

import (
	"strings"
	"testing"

	"dpoplayground/core/data"
	"dpoplayground/core/session"
)

func view(text string, eos bool, d func(i int) float32) session.TokenView {
	var v session.TokenView
	for i, b := range []byte(text) {
		v.Bytes = append(v.Bytes, int(b))
		v.Policy = append(v.Policy, -1+d(i))
		v.Reference = append(v.Reference, -1)
	}
	if eos {
		v.Bytes = append(v.Bytes, data.EOS)
		v.Policy = append(v.Policy, -2)
		v.Reference = append(v.Reference, -1)
	}
	return v
}

func TestShadeGroupsCharactersAndMarksSpecialTokens(t *testing.T) {
	// "a→\nb": '→' is three bytes, shaded by their sum.
	v := view("a→\nb", true, func(i int) float32 { return float32(i) * 0.25 })
	s := Shade(v, 2)
	var texts []string
	for _, g := range s.Glyphs {
		texts = append(texts, g.Text)
	}
	if strings.Join(texts, "|") != "a|→|↵|b|⏎" {
		t.Fatalf("glyphs %q", texts)
	}
	if g := s.Glyphs[1]; g.D != 0.25+0.5+0.75 || !strings.Contains(g.Class, "s-p3") || strings.Count(g.Title, "byte 0x") != 3 {
		t.Errorf("multi-byte glyph %+v", g)
	}
	if !strings.Contains(s.Glyphs[2].Class, "nl") || !strings.Contains(s.Glyphs[4].Class, "eos") || !strings.Contains(s.Glyphs[4].Class, "s-n2") {
		t.Errorf("newline %+v, eos %+v", s.Glyphs[2], s.Glyphs[4])
	}
	if s.Glyphs[0].Class != "g s-0" {
		t.Errorf("unchanged byte class %q", s.Glyphs[0].Class)
	}
	wantSum := 0.0
	for i := range 6 {
		wantSum += float64(i) * 0.25
	}
	if s.Sum != wantSum-1 {
		t.Errorf("sum %v, want %v", s.Sum, wantSum-1)
	}
	if e := s.Extremes(); !strings.Contains(e, `most pushed up "→" (+1.500)`) || !strings.Contains(e, "most pushed down end of text (−1.000)") {
		t.Errorf("extremes %q", e)
	}
}

func TestShadeOfACutAnswerAndBrokenUTF8(t *testing.T) {
	v := view("\xe2\x86", false, func(int) float32 { return 0 })
	v.Truncated = true
	s := Shade(v, 1)
	if len(s.Glyphs) != 2 || s.Glyphs[0].Text != `\xe2` || !s.Truncated || strings.Contains(s.Glyphs[1].Class, "eos") {
		t.Errorf("glyphs %+v", s.Glyphs)
	}
	if s.Extremes() != "no byte moved yet" {
		t.Errorf("extremes %q", s.Extremes())
	}
}

func TestShadeScaleAndLegend(t *testing.T) {
	small := view("ab", false, func(int) float32 { return 0.001 })
	if got := ShadeScale(small); got != 0.05 {
		t.Errorf("scale of tiny changes %v, want the floor 0.05", got)
	}
	big := view("ab", true, func(i int) float32 { return -3 })
	if got := ShadeScale(small, big); got != 3 {
		t.Errorf("scale %v, want 3", got)
	}
	stops := LegendStops(2)
	if len(stops) != 2*ShadeLevels+1 || stops[0].Class != "sw s-n4" || stops[ShadeLevels].Class != "sw s-0" || stops[len(stops)-1].Class != "sw s-p4" {
		t.Errorf("legend %+v", stops)
	}
	if shadeClass(10, 1) != "s-p4" || shadeClass(-10, 1) != "s-n4" || shadeClass(0.1, 1) != "s-0" {
		t.Error("shade classes do not saturate")
	}
}
