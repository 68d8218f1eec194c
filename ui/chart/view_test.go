package chart

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// ramp returns n points from (0, y0) to (n−1, y1).
func ramp(n int, y0, y1 float64) []Point {
	pts := make([]Point, n)
	for i := range pts {
		pts[i] = Point{float64(i), y0 + (y1-y0)*float64(i)/float64(max(1, n-1))}
	}
	return pts
}

func num(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("attribute %q is not a number", s)
	}
	return v
}

func groupTexts(g labelGroup) []string {
	var out []string
	for _, it := range g.items {
		out = append(out, it.text)
	}
	return out
}

// pathPoints parses "Mx,yLx,y x,y…" back into pixel coordinates.
func pathPoints(t *testing.T, d string) [][2]float64 {
	t.Helper()
	d = strings.TrimSuffix(d, "h0")
	var out [][2]float64
	for _, f := range strings.Fields(strings.NewReplacer("M", " ", "L", " ").Replace(d)) {
		x, y, ok := strings.Cut(f, ",")
		if !ok {
			t.Fatalf("path vertex %q in %q", f, d)
		}
		out = append(out, [2]float64{num(t, x), num(t, y)})
	}
	return out
}

func TestViewAxesTicksAndLabels(t *testing.T) {
	zero, one := 0.0, 1.0
	c := &LineChart{
		Title: "Accuracy", XLabel: "step", YLabel: "accuracy (fraction)",
		YMin: &zero, YMax: &one,
		Series: []Series{{Label: "accuracy", Color: ColorAccuracy, Points: ramp(2000, 0.5, 1.2)}},
	}
	c.BeforeBuild()
	v := c.v
	if got := strings.Join(append(groupTexts(v.title), groupTexts(v.axisLabels)...), "|"); got != "Accuracy|step|accuracy (fraction)" {
		t.Errorf("title and axis labels %q", got)
	}
	if tr := v.axisLabels.items[1].transform; !strings.HasSuffix(tr, "rotate(-90)") {
		t.Errorf("the y label is not rotated: %q", tr)
	}
	if got, want := strings.Join(groupTexts(v.yTickLabels), " "), "0.0 0.2 0.4 0.6 0.8 1.0"; got != want {
		t.Errorf("y ticks %q, want %q", got, want)
	}
	if got, want := strings.Join(groupTexts(v.xTickLabels), " "), "0 500 1000 1500"; got != want {
		t.Errorf("x ticks %q, want %q", got, want)
	}
	// Tick labels run up the y axis, inside the plot, beside their grid line.
	prev := math.Inf(1)
	for i, it := range v.yTickLabels.items {
		y := num(t, it.y) - 4
		if y >= prev || y < v.plotTop-0.05 || y > v.plotBottom+0.05 {
			t.Errorf("y tick %q at %v (plot %v..%v, previous %v)", it.text, y, v.plotTop, v.plotBottom, prev)
		}
		if want := "M" + coord(v.plotLeft) + "," + coord(v.ys.apply(v.yTicks[i])) + "H" + coord(v.plotRight); !strings.Contains(v.gridD, want) {
			t.Errorf("no grid line %q in %q", want, v.gridD)
		}
		prev = y
	}
	if n := strings.Count(v.gridD, "M"); n != len(v.yTicks) {
		t.Errorf("%d grid lines for %d ticks", n, len(v.yTicks))
	}
	// The axes: one L-shaped stroke, then a mark per tick.
	if n := strings.Count(v.axesD, "M"); n != 1+len(v.yTicks)+len(v.xTicks) {
		t.Errorf("the axis path has %d subpaths for %d+%d ticks", n, len(v.yTicks), len(v.xTicks))
	}
	if len(v.legend) != 0 {
		t.Errorf("a single live series got a legend: %v", v.legend)
	}
	if v.zeroD != "" {
		t.Error("a zero line on a 0..1 axis (0 is its edge)")
	}
	// The fixed range clamps the line at the top of the plot.
	if len(v.lines) != 1 {
		t.Fatalf("%d lines", len(v.lines))
	}
	pts := pathPoints(t, v.lines[0].d)
	if len(pts) > maxDrawnPoints {
		t.Errorf("%d path vertices, more than %d", len(pts), maxDrawnPoints)
	}
	for _, p := range pts {
		if p[0] < v.plotLeft-0.05 || p[0] > v.plotRight+0.05 || p[1] < v.plotTop-0.05 || p[1] > v.plotBottom+0.05 {
			t.Fatalf("vertex %v outside the plot [%v..%v]×[%v..%v]", p, v.plotLeft, v.plotRight, v.plotTop, v.plotBottom)
		}
	}
	if last := pts[len(pts)-1]; math.Abs(last[1]-v.plotTop) > 0.05 || math.Abs(last[0]-v.plotRight) > 0.05 {
		t.Errorf("the last vertex %v is not at the top right corner", last)
	}
	if !strings.HasPrefix(v.label, "Accuracy. step 0 to 1999. Latest: accuracy 1.2.") {
		t.Errorf("accessible name %q", v.label)
	}
}

func TestViewNarrowWidthHasFewerTicks(t *testing.T) {
	c := &LineChart{Series: []Series{{Points: ramp(1000, -1, 1)}}}
	c.BeforeBuild()
	wide := len(c.v.xTicks)
	if !c.setWidth(360) {
		t.Fatal("setWidth(360) changed nothing")
	}
	c.BeforeBuild()
	if got := c.v.root[0].Val; got != "0 0 360 260" {
		t.Errorf("viewBox %q", got)
	}
	if narrow := len(c.v.xTicks); narrow >= wide {
		t.Errorf("%d x ticks at 360 px, %d at 640 px", narrow, wide)
	}
	if c.v.zeroD == "" {
		t.Error("no zero line on a −1..1 axis")
	}
}

func TestSetWidth(t *testing.T) {
	c := &LineChart{}
	for _, tt := range []struct {
		w      float64
		change bool
		want   float64
	}{
		{0, false, defaultWidth}, {math.NaN(), false, defaultWidth}, {-5, false, defaultWidth},
		{math.Inf(1), false, defaultWidth}, {640.2, false, defaultWidth},
		{500.4, true, 500}, {500.3, false, 500}, {100, true, minWidth}, {1e9, true, maxWidth},
	} {
		if got := c.setWidth(tt.w); got != tt.change || c.layoutWidth() != tt.want {
			t.Errorf("setWidth(%v) = %v, width %v; want %v, %v", tt.w, got, c.layoutWidth(), tt.change, tt.want)
		}
	}
}

func TestViewEmpty(t *testing.T) {
	for _, c := range []*LineChart{
		{},
		{Title: "Loss", Series: []Series{{Label: "loss"}}},
		{Series: []Series{{Points: []Point{{math.NaN(), 1}, {2, math.Inf(-1)}}}}},
	} {
		c.BeforeBuild()
		if got := groupTexts(c.v.empty); len(got) != 1 || got[0] != "No data yet" || len(c.v.lines) != 0 {
			t.Errorf("%+v: empty %q, %d lines", c.Series, got, len(c.v.lines))
		}
		if !strings.HasSuffix(c.v.label, "No data yet.") {
			t.Errorf("accessible name %q", c.v.label)
		}
		if c.moveHover("End") {
			t.Error("a key moved a crosshair over no data")
		}
	}
}

func TestViewSeriesStylesAndOrder(t *testing.T) {
	c := &LineChart{Series: []Series{
		{Label: "chosen", Color: ColorChosen, Points: ramp(10, 0, 1)},
		{Label: "β=0.5", Faded: true, Points: ramp(10, 0, 2)},
		{Label: "rejected", Dash: true, Points: ramp(10, 1, 0)}, // palette colour of position 2
		{Label: "ipo", Faded: true, Dash: true, Color: "#abcdef", Points: ramp(10, 0, 2.05)},
	}}
	c.BeforeBuild()
	v := c.v
	want := []lineItem{
		{class: "chart-line chart-line-faded", stroke: ColorFaded, width: "1.25", opacity: "0.5"},
		{class: "chart-line chart-line-faded", stroke: "#abcdef", width: "1.25", opacity: "0.5", dash: dashFaded},
		{class: "chart-line", stroke: ColorChosen, width: "2"},
		{class: "chart-line", stroke: Palette[2], width: "2", dash: dashLive},
	}
	if len(v.lines) != len(want) {
		t.Fatalf("%d lines, want %d", len(v.lines), len(want))
	}
	for i, w := range want {
		got := v.lines[i]
		got.d = ""
		if got != w {
			t.Errorf("line %d = %+v, want %+v", i, got, w)
		}
	}
	// The legend lists the live series; previous runs are labelled at their ends.
	var legend []string
	for i, it := range v.legend {
		legend = append(legend, v.legendLabels.items[i].text+"/"+it.stroke+"/"+it.dash)
	}
	if got, want := strings.Join(legend, " "), "chosen/#0072B2/ rejected/"+Palette[2]+"/"+dashLive; got != want {
		t.Errorf("legend %q, want %q", got, want)
	}
	ends := v.endLabels.items
	if len(ends) != 2 {
		t.Fatalf("end labels %v", ends)
	}
	// Both runs end at almost the same value: their labels are pushed apart.
	y0, y1 := num(t, ends[0].y), num(t, ends[1].y)
	if math.Abs(y1-y0) < 11-0.05 {
		t.Errorf("end labels %v overlap", ends)
	}
	if ends[0].text != "ipo" || ends[1].text != "β=0.5" {
		t.Errorf("end labels, top to bottom: %q, %q", ends[0].text, ends[1].text)
	}
}

func TestViewLegendWraps(t *testing.T) {
	var series []Series
	for i := range 8 {
		series = append(series, Series{Label: "series with a long name " + strconv.Itoa(i), Points: ramp(5, 0, float64(i))})
	}
	c := &LineChart{Title: "Many", Series: series}
	c.setWidth(360)
	c.BeforeBuild()
	rows := map[string]bool{}
	for i, it := range c.v.legendLabels.items {
		rows[it.y] = true
		if x := num(t, c.v.legend[i].x1); x < 0 || x+22+runeLen(it.text)*charW > 360 {
			t.Errorf("legend item %q at x=%v runs out of the chart", it.text, x)
		}
	}
	if len(rows) != 8 {
		t.Errorf("%d legend rows for 8 long labels at 360 px", len(rows))
	}
	if h := num(t, strings.Fields(c.v.root[0].Val)[3]); h <= baseHeight || c.v.plotBottom-c.v.plotTop < minPlotH {
		t.Errorf("height %v, plot %v px tall: the legend squeezed the plot", h, c.v.plotBottom-c.v.plotTop)
	}
}

func TestViewFixedRanges(t *testing.T) {
	lo, hi, bad := 2.0, 1.0, math.NaN()
	tests := []struct {
		name           string
		xMin, xMax     *float64
		yMin, yMax     *float64
		wantX0, wantX1 float64
		wantY0, wantY1 float64
	}{
		{"auto", nil, nil, nil, nil, 0, 9, 0, 1},
		{"YMin above YMax is ignored", nil, nil, &lo, &hi, 0, 9, 0, 1},
		{"NaN is ignored", &bad, nil, &bad, nil, 0, 9, 0, 1},
		{"fixed x range", nil, &lo, nil, nil, 0, 2, 0, 0.2}, // y follows the points inside x ≤ 2
		{"min beyond the data", &lo, nil, &lo, nil, 2, 9, 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &LineChart{XMin: tt.xMin, XMax: tt.xMax, YMin: tt.yMin, YMax: tt.yMax, Series: []Series{{Points: ramp(10, 0, 0.9)}}}
			c.BeforeBuild()
			xs := c.v.xs
			if xs.d0 != tt.wantX0 || xs.d1 != tt.wantX1 {
				t.Errorf("x domain [%v, %v], want [%v, %v]", xs.d0, xs.d1, tt.wantX0, tt.wantX1)
			}
			ticks := groupTexts(c.v.yTickLabels)
			if got := num(t, strings.ReplaceAll(ticks[0], minus, "-")); got != tt.wantY0 {
				t.Errorf("lowest y tick %v, want %v (ticks %v)", got, tt.wantY0, ticks)
			}
			if got := num(t, strings.ReplaceAll(ticks[len(ticks)-1], minus, "-")); math.Abs(got-tt.wantY1) > 1e-9 {
				t.Errorf("highest y tick %v, want %v (ticks %v)", got, tt.wantY1, ticks)
			}
		})
	}
}

func TestViewMarkers(t *testing.T) {
	c := &LineChart{
		Series:  []Series{{Points: ramp(100, 0, 1)}},
		Markers: []Marker{{X: 30, Label: "DPO starts"}, {X: 500, Label: "beyond"}, {X: math.NaN(), Label: "NaN"}, {X: 99, Label: "end"}},
	}
	c.BeforeBuild()
	labels := c.v.markerLabels.items
	if len(labels) != 2 || strings.Count(c.v.markerD, "M") != 2 {
		t.Fatalf("markers %+v (%q), want the two inside the x domain", labels, c.v.markerD)
	}
	rule := "M" + coord(c.v.xs.apply(30)) + "," + coord(c.v.plotTop) + "V" + coord(c.v.plotBottom)
	if !strings.HasPrefix(c.v.markerD, rule) || labels[0].text != "DPO starts" || labels[0].anchor != "" {
		t.Errorf("marker %q %+v, want %q labelled to its right", c.v.markerD, labels[0], rule)
	}
	if end := labels[1]; end.anchor != "end" {
		t.Errorf("a marker at the right edge is labelled to its %q", end.anchor)
	}
}

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"chosen":            "chosen",
		"  β=0.5 ":          "β=0.5",
		"a\x00b\nc\t d":     "a b c d",
		"bad\uFFFDutf8\x7f": "bad utf8",
		"x\uFFFFy\xffz":     "x y z",
	} {
		if got := cleanText(in); got != want {
			t.Errorf("cleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

// hoverChart has two live series over steps 0..10 and a previous run that
// stopped at step 5; rejected lacks step 7.
func hoverChart() *LineChart {
	chosen := ramp(11, 0, 1)
	var rejected []Point
	for _, p := range ramp(11, 0, -1) {
		if p.X != 7 {
			rejected = append(rejected, p)
		}
	}
	return &LineChart{XLabel: "step", Series: []Series{
		{Label: "chosen", Points: chosen},
		{Label: "rejected", Dash: true, Points: rejected},
		{Label: "β=0.5", Faded: true, Points: ramp(6, 0, 0.5)},
	}}
}

func TestHoverReadout(t *testing.T) {
	c := hoverChart()
	c.BeforeBuild()
	c.hoverAtPixel(c.v.xs.apply(2.2))
	c.BeforeBuild()
	if want := "step 2: chosen 0.2, rejected −0.2, β=0.5 0.2"; c.v.readout.text != want {
		t.Errorf("readout %q, want %q", c.v.readout.text, want)
	}
	h := c.v.hover
	if h == nil || len(h.dots) != 3 || len(h.swatches) != 3 {
		t.Fatalf("hover %+v", h)
	}
	if got := strings.Join(groupTexts(h.texts), "|"); got != "step 2|chosen 0.2|rejected −0.2|β=0.5 0.2" {
		t.Errorf("tooltip %q", got)
	}
	if h.x1 != coord(c.v.xs.apply(2)) {
		t.Errorf("crosshair at %s, want step 2 at %s", h.x1, coord(c.v.xs.apply(2)))
	}
	if h.swatches[1].dash != dashLive || h.swatches[2].opacity == "" {
		t.Errorf("rows keep the series' dash and fading: %+v", h.swatches)
	}

	// Step 7: rejected reports its nearest step, the previous run has ended.
	c.hoverAtPixel(c.v.xs.apply(7))
	c.BeforeBuild()
	if want := "step 7: chosen 0.7, rejected −0.6 (step 6)"; c.v.readout.text != want {
		t.Errorf("readout %q, want %q", c.v.readout.text, want)
	}
	// Far outside the plot: clamped to the last step.
	c.hoverAtPixel(1e6)
	c.BeforeBuild()
	if !strings.HasPrefix(c.v.readout.text, "step 10:") {
		t.Errorf("readout %q, want step 10", c.v.readout.text)
	}
	// The tooltip stays inside the chart on the right edge.
	if x, w := num(t, c.v.hover.box.x), num(t, c.v.hover.box.w); x < 0 || x+w > c.v.width {
		t.Errorf("tooltip [%v, %v] outside the chart's %v px", x, x+w, c.v.width)
	}
	c.hoverAtPixel(math.NaN())
	if c.hoverX != 10 {
		t.Errorf("a NaN pixel moved the crosshair to %v", c.hoverX)
	}
}

func TestHoverTooltipFits(t *testing.T) {
	var series []Series
	for i := range 30 {
		series = append(series, Series{Label: "run " + strconv.Itoa(i), Faded: i > 0, Points: ramp(5, 0, float64(i))})
	}
	c := &LineChart{Series: series}
	c.moveHover("End")
	c.BeforeBuild()
	h := c.v.hover
	if bottom := num(t, h.box.y) + num(t, h.box.h); bottom > c.v.plotBottom {
		t.Errorf("the tooltip ends at %v, below the plot (%v)", bottom, c.v.plotBottom)
	}
	if last := h.texts.items[len(h.texts.items)-1]; !strings.HasPrefix(last.text, "+") || !strings.HasSuffix(last.text, " more") {
		t.Errorf("last row %q, want a “+n more” line", last.text)
	}
	if got := strings.Count(c.v.readout.text, "run "); got != 30 {
		t.Errorf("the readout names %d of 30 runs", got)
	}
}

func TestKeyboard(t *testing.T) {
	c := hoverChart()
	c.BeforeBuild()
	steps := func() float64 {
		c.BeforeBuild()
		if c.v.hover == nil {
			return -1
		}
		return c.hoverX
	}
	for _, tt := range []struct {
		key     string
		handled bool
		want    float64
	}{
		{"a", false, -1},
		{"Escape", false, -1},   // nothing to hide: the page gets the key
		{"ArrowLeft", true, 10}, // the first press shows the newest step
		{"ArrowLeft", true, 9},
		{"ArrowRight", true, 10},
		{"ArrowRight", true, 10}, // stays on the last step
		{"Home", true, 0},
		{"ArrowLeft", true, 0},
		{"PageUp", true, 1},
		{"End", true, 10},
		{"PageDown", true, 9},
		{"Escape", true, -1},
		{"Tab", false, -1},
	} {
		if got := c.moveHover(tt.key); got != tt.handled {
			t.Errorf("%s handled = %v, want %v", tt.key, got, tt.handled)
		}
		if got := steps(); got != tt.want {
			t.Errorf("after %s the crosshair is at %v, want %v", tt.key, got, tt.want)
		}
	}
	// Focus loss hides a keyboard crosshair but not a mouse one.
	c.moveHover("Home")
	c.blurred()
	if c.hovering {
		t.Error("the crosshair stayed after the chart lost focus")
	}
	c.moveHover("Home")
	c.pointerInside = true
	c.blurred()
	if !c.hovering {
		t.Error("focus loss hid the crosshair under the mouse")
	}
}

func TestExportHidesHoverAndKeepsView(t *testing.T) {
	c := hoverChart()
	c.moveHover("End")
	c.BeforeBuild()
	before := c.v.readout.text
	svg := c.SVG()
	if strings.Contains(svg, "chart-hover") {
		t.Error("the export shows the crosshair")
	}
	if c.v.readout.text != before || c.v.hover == nil {
		t.Error("SVG() changed what the page shows")
	}
}

func TestViewEndLabelsFitANarrowChart(t *testing.T) {
	c := &LineChart{Series: []Series{
		{Label: "live", Points: ramp(50, 0, 1)},
		{Label: "a previous run with a very long description", Faded: true, Points: ramp(50, 0, 0.5)},
	}}
	c.setWidth(minWidth)
	c.BeforeBuild()
	end := c.v.endLabels.items[0]
	if !strings.HasSuffix(end.text, "…") {
		t.Errorf("end label %q, want it shortened", end.text)
	}
	if right := num(t, end.x) + runeLen(end.text)*smallCharW; right > minWidth {
		t.Errorf("the end label reaches x=%v, past the chart's %v px", right, minWidth)
	}
	c.moveHover("End")
	c.BeforeBuild()
	if !strings.Contains(c.v.readout.text, "a previous run with a very long description 0.5") {
		t.Errorf("the readout %q lacks the full name", c.v.readout.text)
	}
}
