package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// formatMetric writes a metric for the status readouts: four significant
// digits, "—" when it does not exist (yet).
func formatMetric(v float64, ok bool) string {
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	if v == 0 {
		return "0"
	}
	a := math.Abs(v)
	switch {
	case a >= 1000 || a < 0.001:
		return strconv.FormatFloat(v, 'e', 2, 64)
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// formatSigned is a reward or margin with its sign, e.g. "+0.123", "−0.045"
// (a true minus sign, which reads better in tables).
func formatSigned(v float64) string {
	s := strconv.FormatFloat(math.Abs(v), 'f', 3, 64)
	switch {
	case s == "0.000":
		return "0.000"
	case v < 0:
		return "−" + s
	}
	return "+" + s
}

// formatDuration is m:ss, or h:mm:ss from an hour on.
func formatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// formatCount groups thousands with a thin space: 124 736.
func formatCount(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u202f')
		}
		b.WriteRune(r)
	}
	if neg {
		return "−" + b.String()
	}
	return b.String()
}

// formatBytes is a file size: "412 kB", "3.2 MB".
func formatBytes(n int) string {
	switch {
	case n >= 1_000_000:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
	case n >= 1000:
		return strconv.Itoa((n+500)/1000) + " kB"
	}
	return strconv.Itoa(n) + " B"
}

// formatSetting writes a setting's number as people type it: 0.1, 3e-3, 1e-4.
func formatSetting(v float64) string {
	if v != 0 && math.Abs(v) < 0.01 {
		s := strconv.FormatFloat(v, 'e', -1, 64)
		// 1e-04 → 1e-4
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[:1]
		exp = strings.TrimLeft(exp[1:], "0")
		if sign == "+" {
			sign = ""
		}
		return mant + "e" + sign + exp
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// plural is "1 pair", "3 pairs".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return formatCount(n) + " " + many
}
