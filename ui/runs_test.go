package ui

import (
	"testing"

	"dpoplayground/core/dpo"
	"dpoplayground/core/session"
)

func TestRunLabelNamesWhatDiffers(t *testing.T) {
	live := session.DefaultSettings()
	live.Start = session.StartRandom // from the base, the size is the base's: no preset to name
	tests := []struct {
		name   string
		change func(*session.Settings)
		want   string
	}{
		{"same", func(*session.Settings) {}, "run 3"},
		{"beta", func(s *session.Settings) { s.Beta = 0.5 }, "β=0.5"},
		{"loss", func(s *session.Settings) { s.Loss = dpo.IPO }, "ipo"},
		{"lr", func(s *session.Settings) { s.LR = 3e-3 }, "lr=3e-3"},
		{"two", func(s *session.Settings) { s.Loss, s.Beta = dpo.Hinge, 1 }, "hinge, β=1"},
		{"many", func(s *session.Settings) { s.Loss, s.Beta, s.LR, s.Seed = dpo.Hinge, 1, 0.01, 5 }, "hinge, β=1, lr=0.01, …"},
		{"batch", func(s *session.Settings) { s.BatchSize = 4 }, "batch=4"},
		{"reference", func(s *session.Settings) { s.Reference = session.RefSFTBoth }, "ref: SFT both"},
		{"pairs", func(s *session.Settings) { s.Pairs = "x" }, "other pairs"},
		{"preset", func(s *session.Settings) { s.Preset = "nano" }, "nano"},
		{"start", func(s *session.Settings) { s.Start = session.StartBase }, "from base"},
	}
	for _, tt := range tests {
		past := live
		tt.change(&past)
		if got := RunLabel(past, live, 3); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	past := live
	live.BatchSize = 2
	if got := RunLabel(past, live, 1); got != "batch=all" {
		t.Errorf("batch 0: %q", got)
	}
}
