package chart

import (
	"math"
	"slices"
	"testing"
)

var nan, inf = math.NaN(), math.Inf(1)

func TestLinearScale(t *testing.T) {
	s := linearScale{d0: 10, d1: 20, r0: 100, r1: 0} // y axes run upwards
	for _, tt := range []struct{ v, px float64 }{{10, 100}, {20, 0}, {15, 50}, {25, -50}} {
		if got := s.apply(tt.v); got != tt.px {
			t.Errorf("apply(%v) = %v, want %v", tt.v, got, tt.px)
		}
		if got := s.invert(tt.px); got != tt.v {
			t.Errorf("invert(%v) = %v, want %v", tt.px, got, tt.v)
		}
	}
	flat := linearScale{d0: 3, d1: 3, r0: 0, r1: 10}
	if got := flat.apply(3); got != 5 {
		t.Errorf("an empty domain maps to %v, want the middle 5", got)
	}
	if got := (linearScale{d0: 1, d1: 2, r0: 7, r1: 7}).invert(7); got != 1 {
		t.Errorf("an empty range inverts to %v, want d0", got)
	}
}

func TestNiceStep(t *testing.T) {
	tests := []struct {
		span float64
		n    int
		want float64
	}{
		{1, 5, 0.2},
		{1, 4, 0.2},     // raw 0.25 rounds to 0.2 (below √10·0.1)
		{1, 10, 0.1},    // raw 0.1
		{100, 3, 50},    // raw 33: ≥ √10·10
		{1999, 6, 500},  // raw 333
		{1999, 3, 500},  // raw 666: below √50·100
		{1999, 2, 1000}, // raw 999.5
		{0.003, 5, 0.0005},
		{7, 5, 1}, // raw 1.4 < √2
		{0, 5, 0},
		{-1, 5, 0},
		{inf, 5, 0},
		{nan, 5, 0},
		{10, 0, 10}, // n < 1 counts as 1
	}
	for _, tt := range tests {
		got := niceStep(tt.span, tt.n)
		if math.Abs(got-tt.want) > 1e-12*math.Max(1, tt.want) {
			t.Errorf("niceStep(%v, %d) = %v, want %v", tt.span, tt.n, got, tt.want)
		}
	}
}

func TestTicks(t *testing.T) {
	tests := []struct {
		name     string
		lo, hi   float64
		n        int
		minStep  float64
		want     []float64
		wantStep float64
	}{
		{"unit interval", 0, 1, 5, 0, []float64{0, 0.2, 0.4, 0.6, 0.8, 1}, 0.2},
		{"tenths are exact", 0, 0.5, 5, 0, []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5}, 0.1},
		{"inside the range only", -1.1, 1, 4, 0, []float64{-1, -0.5, 0, 0.5, 1}, 0.5},
		{"steps", 0, 1999, 6, 1, []float64{0, 500, 1000, 1500}, 500},
		{"integer steps at least 1", 0, 3, 10, 1, []float64{0, 1, 2, 3}, 1},
		{"negative", -30, -10, 2, 0, []float64{-30, -20, -10}, 10},
		{"one value", 4, 4, 5, 0, []float64{4}, 0},
		{"reversed", 2, 1, 5, 0, nil, 0},
		{"NaN", nan, 1, 5, 0, nil, 0},
		{"infinite", 0, inf, 5, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, step := ticks(tt.lo, tt.hi, tt.n, tt.minStep)
			if !slices.Equal(got, tt.want) || step != tt.wantStep {
				t.Errorf("ticks(%v, %v, %d, %v) = %v step %v, want %v step %v", tt.lo, tt.hi, tt.n, tt.minStep, got, step, tt.want, tt.wantStep)
			}
		})
	}
	// A huge magnitude with a tiny span cannot produce an unbounded list.
	if got, _ := ticks(1e300, 1.0000000001e300, 1e6, 0); len(got) > maxTicks {
		t.Errorf("%d ticks, more than maxTicks", len(got))
	}
}

func TestNiceDomain(t *testing.T) {
	tests := []struct{ lo, hi, wantLo, wantHi float64 }{
		{0.13, 0.92, 0, 1},
		{-1.1, 1, -1.5, 1},       // step 0.5 (n=4)
		{-0.693, -0.01, -0.8, 0}, // step 0.2
		{3, 3, 3, 3},             // nothing to widen
	}
	for _, tt := range tests {
		lo, hi := niceDomain(tt.lo, tt.hi, 4)
		if math.Abs(lo-tt.wantLo) > 1e-12 || math.Abs(hi-tt.wantHi) > 1e-12 {
			t.Errorf("niceDomain(%v, %v) = [%v, %v], want [%v, %v]", tt.lo, tt.hi, lo, hi, tt.wantLo, tt.wantHi)
		}
	}
}

// noisy returns n points y = sin(x/50) + a fast wiggle, with x = 0..n−1.
func noisy(n int) []Point {
	pts := make([]Point, n)
	for i := range pts {
		x := float64(i)
		pts[i] = Point{x, math.Sin(x/50) + 0.2*math.Sin(x*1.7)}
	}
	return pts
}

func TestDecimateKeepsShortSeries(t *testing.T) {
	pts := []Point{{0, 1}, {1, nan}, {2, 3}, {inf, 4}, {3, -inf}, {4, 5}, {5, 6}}
	got := decimate(nil, pts, 0, 4, 100)
	want := []Point{{0, 1}, {2, 3}, {4, 5}} // non-finite points and x = 5 (outside [0, 4]) are gone
	if !slices.Equal(got, want) {
		t.Errorf("decimate = %v, want %v", got, want)
	}
	if got := decimate(nil, nil, 0, 1, 100); len(got) != 0 {
		t.Errorf("decimate(nil) = %v", got)
	}
}

// TestDecimateM4 checks the M4 guarantee against a brute-force reduction:
// every bucket keeps exactly its first, lowest, highest and last points,
// so a line through the result spans the same y range per bucket.
func TestDecimateM4(t *testing.T) {
	const buckets = 100
	for _, n := range []int{401, 2000, 4999} { // more than 4·buckets points
		pts := noisy(n)
		pts[n/3].Y = nan // skipped, not propagated
		x0, x1 := 0.0, float64(n-1)
		got := decimate(nil, pts, x0, x1, buckets)
		if len(got) > 4*buckets {
			t.Fatalf("n=%d: %d points, more than %d", n, len(got), 4*buckets)
		}
		if got[0] != pts[0] || got[len(got)-1] != pts[n-1] {
			t.Errorf("n=%d: first/last = %v/%v, want %v/%v", n, got[0], got[len(got)-1], pts[0], pts[n-1])
		}
		// Brute force: the indices M4 keeps, per bucket.
		width := (x1 - x0) / buckets
		var want []Point
		for b := 0; b < buckets; b++ {
			var idx []int
			for i, p := range pts {
				if finite(p) && min(int((p.X-x0)/width), buckets-1) == b {
					idx = append(idx, i)
				}
			}
			if len(idx) == 0 {
				continue
			}
			lo, hi := idx[0], idx[0]
			for _, i := range idx {
				if pts[i].Y < pts[lo].Y {
					lo = i
				}
				if pts[i].Y > pts[hi].Y {
					hi = i
				}
			}
			keep := []int{idx[0], lo, hi, idx[len(idx)-1]}
			slices.Sort(keep)
			for _, i := range slices.Compact(keep) {
				want = append(want, pts[i])
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("n=%d: decimate kept %d points, brute force %d; first difference at %d", n, len(got), len(want), firstDiff(got, want))
		}
	}
}

func firstDiff(a, b []Point) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestDecimateDomainAndDisorder(t *testing.T) {
	pts := noisy(3000)
	got := decimate(nil, pts, 1000, 1999, 50)
	if len(got) == 0 || len(got) > 200 {
		t.Fatalf("%d points", len(got))
	}
	for _, p := range got {
		if p.X < 1000 || p.X > 1999 {
			t.Fatalf("point %v outside the domain [1000, 1999]", p)
		}
	}
	// Unordered input: nothing invented, nothing panics.
	shuffled := slices.Clone(pts)
	for i := range shuffled {
		j := (i * 7919) % len(shuffled)
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	}
	out := decimate(nil, shuffled, 0, 2999, 100)
	for _, p := range out {
		if !slices.Contains(pts, p) {
			t.Fatalf("decimate invented %v", p)
		}
	}
	// A degenerate domain keeps the points on it.
	if got := decimate(nil, []Point{{5, 1}, {5, 2}}, 5, 5, 1); len(got) != 2 {
		t.Errorf("x0 == x1: %v", got)
	}
}

func TestAppendCoord(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0"}, {1, "1"}, {1.25, "1.3"}, {123.45, "123.5"}, {-1.05, "-1.1"},
		{-0.04, "0"}, {-0.06, "-0.1"}, {640, "640"}, {0.96, "1"},
		{nan, "0"}, {inf, "1000000"}, {-1e300, "-1000000"},
	}
	for _, tt := range tests {
		if got := coord(tt.v); got != tt.want {
			t.Errorf("coord(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestPathData(t *testing.T) {
	xs := linearScale{0, 10, 0, 100}
	ys := linearScale{0, 1, 50, 10}
	pts := []Point{{0, 0}, {5, 0.5}, {10, 1}, {10, 3}} // the last one is above the plot
	got := string(pathData(nil, pts, xs, ys, 10, 50))
	if want := "M0,50L50,30 100,10 100,10"; got != want {
		t.Errorf("pathData = %q, want %q", got, want)
	}
	if got := string(pathData(nil, pts[1:2], xs, ys, 10, 50)); got != "M50,30h0" {
		t.Errorf("one point = %q, want a zero-length segment", got)
	}
	if got := pathData(nil, nil, xs, ys, 10, 50); len(got) != 0 {
		t.Errorf("no points = %q", got)
	}
}

func TestNearest(t *testing.T) {
	pts := []Point{{0, 1}, {1, nan}, {2, 3}, {4, 5}}
	tests := []struct {
		x    float64
		want int
	}{{-5, 0}, {0.9, 0}, {1.1, 2}, {3, 2}, {3.5, 3}, {100, 3}}
	for _, tt := range tests {
		if got := nearestIndex(pts, tt.x); got != tt.want {
			t.Errorf("nearestIndex(%v) = %d, want %d", tt.x, got, tt.want)
		}
	}
	if got := nearestIndex([]Point{{nan, 1}, {2, inf}}, 2); got != -1 {
		t.Errorf("nearestIndex over undrawable points = %d, want -1", got)
	}

	series := []Series{{Points: []Point{{0, 1}, {10, 1}}}, {Points: []Point{{3, 2}, {7, nan}}}, {}}
	if x, ok := nearestX(series, 6); !ok || x != 3 {
		t.Errorf("nearestX(6) = %v, %v; want 3 (7 is not drawable)", x, ok)
	}
	if x, ok := nextX(series, 3, +1); !ok || x != 10 {
		t.Errorf("nextX(3, +1) = %v, %v; want 10", x, ok)
	}
	if x, ok := nextX(series, 3, -1); !ok || x != 0 {
		t.Errorf("nextX(3, -1) = %v, %v; want 0", x, ok)
	}
	if _, ok := nextX(series, 10, +1); ok {
		t.Error("nextX past the last step found one")
	}
	if x0, x1, y0, y1, ok := extents(series); !ok || x0 != 0 || x1 != 10 || y0 != 1 || y1 != 2 {
		t.Errorf("extents = %v, %v, %v, %v, %v", x0, x1, y0, y1, ok)
	}
	if _, ok := nearestX(nil, 0); ok {
		t.Error("nearestX of no series found a step")
	}
	if _, _, _, _, ok := extents([]Series{{Points: []Point{{nan, nan}}}}); ok {
		t.Error("extents of undrawable points is not empty")
	}
}

func TestFormat(t *testing.T) {
	ticks := []struct {
		v, step float64
		want    string
	}{
		{0, 0.2, "0.0"}, {0, 5, "0"}, {0.4, 0.2, "0.4"}, {-0.5, 0.5, "−0.5"}, {1, 0.2, "1.0"},
		{1500, 500, "1500"}, {0.0015, 0.0005, "0.0015"}, {-1e-17, 0.1, "0.0"},
		{2e7, 1e7, "2e+07"}, {7, 0, "7"},
	}
	for _, tt := range ticks {
		if got := formatTick(tt.v, tt.step); got != tt.want {
			t.Errorf("formatTick(%v, %v) = %q, want %q", tt.v, tt.step, got, tt.want)
		}
	}
	values := []struct {
		v    float64
		want string
	}{{0.693147, "0.6931"}, {-0.021, "−0.021"}, {12345, "1.234e+04"}, {1, "1"}, {-0.0, "0"}}
	for _, tt := range values {
		if got := formatValue(tt.v); got != tt.want {
			t.Errorf("formatValue(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	steps := []struct {
		x    float64
		want string
	}{{120, "120"}, {-3, "−3"}, {2.5, "2.5"}}
	for _, tt := range steps {
		if got := formatStep(tt.x); got != tt.want {
			t.Errorf("formatStep(%v) = %q, want %q", tt.x, got, tt.want)
		}
	}
}
