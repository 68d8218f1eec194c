package ui

import (
	"math"
	"testing"
	"time"
)

func TestFormatting(t *testing.T) {
	for _, tt := range []struct {
		got, want string
	}{
		{formatMetric(0.69314718, true), "0.6931"},
		{formatMetric(-1.8391, true), "-1.839"},
		{formatMetric(12.345, true), "12.35"},
		{formatMetric(0.0001234, true), "1.23e-04"},
		{formatMetric(0, true), "0"},
		{formatMetric(1, false), "—"},
		{formatMetric(math.NaN(), true), "—"},
		{formatSigned(-0.0451), "−0.045"},
		{formatSigned(1.5), "+1.500"},
		{formatSigned(-0.0001), "0.000"},
		{formatDuration(65 * time.Second), "1:05"},
		{formatDuration(3723 * time.Second), "1:02:03"},
		{formatDuration(-time.Second), "0:00"},
		{formatCount(124736), "124\u202f736"},
		{formatCount(999), "999"},
		{formatBytes(501576), "502 kB"},
		{formatBytes(3_200_000), "3.2 MB"},
		{formatSetting(1e-4), "1e-4"},
		{formatSetting(0.003), "3e-3"},
		{formatSetting(0.1), "0.1"},
		{formatSetting(2), "2"},
		{plural(1, "pair", "pairs"), "1 pair"},
		{plural(2000, "pair", "pairs"), "2\u202f000 pairs"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestSettingsOptions(t *testing.T) {
	opts := ModelOptions()
	if len(opts) != 3 || opts[1].Name != "micro" || opts[1].Label != "micro · 124\u202f736 parameters" {
		t.Errorf("model options %+v", opts)
	}
	for i, b := range BetaStops {
		if betaStop(b) != i {
			t.Errorf("stop of %v = %d, want %d", b, betaStop(b), i)
		}
	}
	if BetaStops[6] != 0.1 || BetaStops[12] != 1 || len(BetaStops) != 19 {
		t.Error("0.1 and 1 are not at a third and two thirds of the slider")
	}
	if presetContext("nope") != presetContext("micro") {
		t.Error("an unknown preset has no context")
	}
}
