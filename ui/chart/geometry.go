package chart

import (
	"math"
	"strconv"
	"strings"
)

// finite reports whether p can be drawn: both coordinates are numbers.
// v−v is 0 for every finite v and NaN for NaN and ±Inf; this runs once per
// point per render, so it avoids four function calls.
func finite(p Point) bool {
	return p.X-p.X == 0 && p.Y-p.Y == 0
}

// linearScale maps the data interval [d0, d1] onto the pixel interval
// [r0, r1]: r0 + (v−d0)·(r1−r0)/(d1−d0). An empty data interval maps to
// the middle of the pixel interval.
type linearScale struct {
	d0, d1, r0, r1 float64
}

func (s linearScale) apply(v float64) float64 {
	if s.d1 == s.d0 {
		return (s.r0 + s.r1) / 2
	}
	return s.r0 + (v-s.d0)*(s.r1-s.r0)/(s.d1-s.d0)
}

// invert is apply's inverse: d0 + (p−r0)·(d1−d0)/(r1−r0).
func (s linearScale) invert(p float64) float64 {
	if s.r1 == s.r0 {
		return s.d0
	}
	return s.d0 + (p-s.r0)*(s.d1-s.d0)/(s.r1-s.r0)
}

// niceStep is the 1, 2 or 5 × 10^k spacing that cuts span into about n
// intervals. Like d3's tickIncrement it rounds the raw spacing span/n to the
// nearest of those on a log scale (the cut-offs are √2, √10 and √50).
func niceStep(span float64, n int) float64 {
	if n < 1 {
		n = 1
	}
	raw := span / float64(n)
	if !(raw > 0) || math.IsInf(raw, 0) {
		return 0
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	norm := raw / mag
	switch {
	case norm >= math.Sqrt(50):
		return 10 * mag
	case norm >= math.Sqrt(10):
		return 5 * mag
	case norm >= math.Sqrt(2):
		return 2 * mag
	}
	return mag
}

// maxTicks bounds the tick loop whatever the input, so that a pathological
// range (huge magnitude, tiny span) cannot produce thousands of labels.
const maxTicks = 50

// ticks returns the multiples of a nice step (at least minStep) that lie
// in [lo, hi], about n of them, and the step.
func ticks(lo, hi float64, n int, minStep float64) ([]float64, float64) {
	if !(hi >= lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil, 0
	}
	if hi == lo {
		return []float64{lo}, 0
	}
	step := math.Max(niceStep(hi-lo, n), minStep)
	if step == 0 {
		return nil, 0
	}
	first, last := math.Ceil(lo/step), math.Floor(hi/step)
	var out []float64
	for k := first; k <= last && len(out) < maxTicks; k++ {
		out = append(out, tickValue(k, step))
	}
	return out, step
}

// tickValue is k·step, computed as k/(1/step) for steps below 1 so that
// 0.1-steps give 0.3 rather than 0.30000000000000004.
func tickValue(k, step float64) float64 {
	if step < 1 {
		if inv := math.Round(1 / step); math.Abs(inv*step-1) < 1e-9 {
			return k / inv
		}
	}
	return k * step
}

// niceDomain widens [lo, hi] to multiples of the nice step for about n
// ticks, so that the axis starts and ends on a labelled value. Two rounds,
// because widening can change the step (as in d3's scale.nice).
func niceDomain(lo, hi float64, n int) (float64, float64) {
	for range 2 {
		step := niceStep(hi-lo, n)
		if step == 0 {
			break
		}
		lo, hi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	}
	return lo, hi
}

// decimate appends to dst the drawable points of pts whose X lies in
// [x0, x1], reduced by M4 decimation when pts has more than 4·buckets
// points: [x0, x1] is cut into equal-width buckets and each keeps its
// first, lowest, highest and last point, in their original order. A line
// through the kept points covers the same pixels as one through all of
// them when a bucket is no wider than a pixel column, and stays close
// otherwise. Points are expected in increasing X (a training log is);
// unordered input is not dropped, it starts a new bucket at each change.
func decimate(dst, pts []Point, x0, x1 float64, buckets int) []Point {
	if buckets < 1 || len(pts) <= 4*buckets || !(x1 > x0) {
		for _, p := range pts {
			if finite(p) && p.X >= x0 && p.X <= x1 {
				dst = append(dst, p)
			}
		}
		return dst
	}
	width := (x1 - x0) / float64(buckets)
	cur := -1
	var first, lowest, highest, last int
	flush := func() {
		if cur < 0 {
			return
		}
		keep := [4]int{first, lowest, highest, last}
		// Sort the four indices (insertion sort) and skip repeats.
		for i := 1; i < 4; i++ {
			for j := i; j > 0 && keep[j] < keep[j-1]; j-- {
				keep[j], keep[j-1] = keep[j-1], keep[j]
			}
		}
		for i, k := range keep {
			if i == 0 || k != keep[i-1] {
				dst = append(dst, pts[k])
			}
		}
	}
	for i, p := range pts {
		if !finite(p) || p.X < x0 || p.X > x1 {
			continue
		}
		b := min(int((p.X-x0)/width), buckets-1)
		if b != cur {
			flush()
			cur, first, lowest, highest = b, i, i, i
		}
		if p.Y < pts[lowest].Y {
			lowest = i
		}
		if p.Y > pts[highest].Y {
			highest = i
		}
		last = i
	}
	flush()
	return dst
}

// appendCoord appends v rounded to 0.1 px, without a trailing ".0". Data
// whose range overflows float64 (±1e308 together) maps to NaN or huge
// pixels: those are written as 0 or ±1e6, which a browser still parses.
func appendCoord(b []byte, v float64) []byte {
	if v != v {
		v = 0
	}
	r := int64(math.Round(clampF(v, -1e6, 1e6) * 10))
	if r < 0 {
		b = append(b, '-')
		r = -r
	}
	b = strconv.AppendInt(b, r/10, 10)
	if f := r % 10; f != 0 {
		b = append(b, '.', byte('0'+f))
	}
	return b
}

// coord is appendCoord as a string, for attributes.
func coord(v float64) string {
	return string(appendCoord(make([]byte, 0, 8), v))
}

// pathData appends the SVG path "M x,y Lx,y x,y …" through pts, mapped by
// xs and ys, with y clamped to [yTop, yBottom] so that points outside a
// fixed range run along the plot's edge instead of across the title. A
// single point becomes "M x,y h0", which round line caps draw as a dot.
func pathData(b []byte, pts []Point, xs, ys linearScale, yTop, yBottom float64) []byte {
	for i, p := range pts {
		switch i {
		case 0:
			b = append(b, 'M')
		case 1:
			b = append(b, 'L')
		default:
			b = append(b, ' ')
		}
		b = appendCoord(b, xs.apply(p.X))
		b = append(b, ',')
		b = appendCoord(b, math.Min(math.Max(ys.apply(p.Y), yTop), yBottom))
	}
	if len(pts) == 1 {
		b = append(b, "h0"...)
	}
	return b
}

// nearestIndex returns the index of the drawable point of pts whose X is
// closest to x (the first of equals), or −1 when none is drawable. A linear
// scan: it runs once per series per hover, and copes with unordered input.
func nearestIndex(pts []Point, x float64) int {
	best, bestDist := -1, math.Inf(1)
	for i, p := range pts {
		if !finite(p) {
			continue
		}
		if d := math.Abs(p.X - x); d < bestDist {
			best, bestDist = i, d
		}
	}
	return best
}

// extentX returns the smallest and largest X of the drawable points of pts;
// ok is false when there is none.
func extentX(pts []Point) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		if finite(p) {
			lo, hi = math.Min(lo, p.X), math.Max(hi, p.X)
		}
	}
	return lo, hi, lo <= hi
}

// nextX returns the smallest drawable X of all series beyond x in the
// direction dir (+1 larger, −1 smaller); ok is false when there is none.
func nextX(series []Series, x float64, dir int) (float64, bool) {
	best, ok := 0.0, false
	for _, s := range series {
		for _, p := range s.Points {
			if !finite(p) {
				continue
			}
			if dir > 0 && p.X > x && (!ok || p.X < best) || dir < 0 && p.X < x && (!ok || p.X > best) {
				best, ok = p.X, true
			}
		}
	}
	return best, ok
}

// minus is the typographic minus sign that labels use.
const minus = "−"

// formatTick formats a tick value with as many decimals as the tick step
// needs (step 0.05 → 2, step 5 → 0), in exponent notation for very large or
// small steps.
func formatTick(v, step float64) string {
	var s string
	switch {
	case step == 0:
		s = formatValue(v)
	case step >= 1e6 || step < 1e-6:
		s = strconv.FormatFloat(v, 'g', 3, 64)
	default:
		// Steps are 1, 2 or 5 × 10^k: −k decimals show every tick exactly.
		dec := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
		s = strconv.FormatFloat(v, 'f', dec, 64)
	}
	return withMinus(s)
}

// formatValue formats a hovered value with 4 significant digits.
func formatValue(v float64) string {
	return withMinus(strconv.FormatFloat(v, 'g', 4, 64))
}

// formatStep formats a step number: an integer when it is one.
func formatStep(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return withMinus(strconv.FormatInt(int64(x), 10))
	}
	return formatValue(x)
}

// withMinus swaps a leading hyphen for the minus sign, and drops the sign
// of a value that rounds to zero.
func withMinus(s string) string {
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		if strings.Trim(rest, "0.") == "" {
			return rest
		}
		return minus + rest
	}
	return s
}

// nearestX returns the drawable X of all series closest to x; ok is false
// when no series has a drawable point.
func nearestX(series []Series, x float64) (float64, bool) {
	best, bestDist, ok := 0.0, math.Inf(1), false
	for _, s := range series {
		if i := nearestIndex(s.Points, x); i >= 0 {
			if d := math.Abs(s.Points[i].X - x); d < bestDist {
				best, bestDist, ok = s.Points[i].X, d, true
			}
		}
	}
	return best, ok
}
