package chart

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/vugu/vugu"
)

// Layout constants, in CSS pixels: the SVG's user units equal CSS pixels
// once the chart knows its width (see LineChart.figureCreated).
const (
	defaultWidth = 640.0 // before the first measurement, and natively
	minWidth     = 240.0
	maxWidth     = 4096.0
	baseHeight   = 260.0
	minPlotH     = 120.0 // the SVG grows taller rather than squeeze the plot under a long legend

	// maxDrawnPoints bounds the vertices of one series' path: decimate keeps
	// at most 4 per bucket.
	maxDrawnPoints = 400

	charW      = 6.6 // average advance of a 12 px sans-serif character
	smallCharW = 6.1 // … of an 11 px one
	rowH       = 16.0
	legendRowH = 18.0
	dashLive   = "6 4"
	dashFaded  = "4 3"
	fadedGrey  = "#8a8a8a" // a faded series without a colour of its own
)

// attrs lists attributes with their exact case (viewBox), which vugugen's
// HTML parser would lower-case in a dynamic :name= attribute.
type attrs []vugu.VGAttribute

// AttributeList implements vugu.VGAttributeLister for the vg-attr syntax.
func (a attrs) AttributeList() []vugu.VGAttribute { return a }

// opt turns "" into nil, which vugu leaves out instead of writing name="".
func opt(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Shared presentation attributes of the label groups. Fonts and colours
// are attributes rather than CSS so that an export looks the same on its
// own; a page's CSS can still override them through the classes.
var (
	titleAttrs     = attrs{{Key: "class", Val: "chart-title"}, {Key: "font-size", Val: "14"}, {Key: "font-weight", Val: "600"}}
	legendAttrs    = attrs{{Key: "class", Val: "chart-legend-labels"}}
	xTickAttrs     = attrs{{Key: "class", Val: "chart-ticks chart-ticks-x"}, {Key: "font-size", Val: "11"}, {Key: "fill", Val: "#444444"}, {Key: "text-anchor", Val: "middle"}}
	yTickAttrs     = attrs{{Key: "class", Val: "chart-ticks chart-ticks-y"}, {Key: "font-size", Val: "11"}, {Key: "fill", Val: "#444444"}, {Key: "text-anchor", Val: "end"}}
	axisLabelAttrs = attrs{{Key: "class", Val: "chart-axis-labels"}, {Key: "text-anchor", Val: "middle"}}
	markerAttrs    = attrs{{Key: "class", Val: "chart-marker-labels"}, {Key: "font-size", Val: "11"}, {Key: "fill", Val: "#555555"}}
	endLabelAttrs  = attrs{{Key: "class", Val: "chart-end-labels"}, {Key: "font-size", Val: "11"}, {Key: "fill", Val: "#555555"}}
	emptyAttrs     = attrs{{Key: "class", Val: "chart-empty"}, {Key: "fill", Val: "#767676"}, {Key: "text-anchor", Val: "middle"}}
	tooltipAttrs   = attrs{{Key: "class", Val: "chart-tooltip-text"}}
	readoutAttrs   = attrs{{Key: "class", Val: "chart-readout"}, {Key: "aria-live", Val: "polite"}}
)

type lineItem struct {
	class, d, stroke, width, dash, opacity string
}

// swatch is a short stroke in a series' style, in the legend and the tooltip.
type swatch struct {
	x1, y1, x2, y2        string
	stroke, dash, opacity string
}

type dotItem struct{ cx, cy, fill string }

type hoverItem struct {
	x1, y1, x2, y2 string // the crosshair
	dots           []dotItem
	box            struct{ x, y, w, h string }
	swatches       []swatch
	texts          labelGroup // the header, then one row per series
}

// view is everything the markup draws, as attribute strings: LineChart
// computes it once per render (BeforeBuild) and once per SVG export.
type view struct {
	exporting bool
	root      attrs
	label     string // the <svg>'s accessible name (and <title> of an export)

	title, legendLabels, xTickLabels, yTickLabels labelGroup
	axisLabels, markerLabels, endLabels, empty    labelGroup
	readout                                       liveText // the hovered values in words, for the aria-live line

	legend                       []swatch
	gridD, zeroD, axesD, markerD string // one path each
	lines                        []lineItem
	hover                        *hoverItem

	// The geometry behind the strings, for the event handlers (pixel ↔
	// data) and for checking the strings against: tick values and the
	// plot's edges in pixels.
	width               float64
	xs, ys              linearScale
	xTicks, yTicks      []float64
	plotLeft, plotRight float64
	plotTop, plotBottom float64
}

// dropped reports the runes a label loses: control characters, the
// replacement character that stands for invalid UTF-8, and U+FFFE and
// U+FFFF, which XML forbids.
func dropped(r rune) bool {
	return unicode.IsControl(r) || r == unicode.ReplacementChar || r == 0xFFFE || r == 0xFFFF
}

// cleanText makes a caller's label safe for XML text and one line long:
// dropped runes become spaces, and then runs of space collapse.
func cleanText(s string) string {
	if strings.IndexFunc(s, dropped) < 0 {
		return strings.TrimSpace(s)
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return dropped(r) || unicode.IsSpace(r) }), " ")
}

// validRange returns the caller's fixed range when it is usable: finite
// bounds, and lo < hi when both are given.
func validRange(lo, hi *float64) (*float64, *float64) {
	ok := func(p *float64) *float64 {
		if p == nil || math.IsNaN(*p) || math.IsInf(*p, 0) {
			return nil
		}
		return p
	}
	lo, hi = ok(lo), ok(hi)
	if lo != nil && hi != nil && !(*lo < *hi) {
		return nil, nil
	}
	return lo, hi
}

// seriesColor is s's stroke: its own colour, else the palette's colour
// for its position (faded series: grey).
func seriesColor(s Series, i int) string {
	if c := cleanText(s.Color); c != "" {
		return c
	}
	if s.Faded {
		return fadedGrey
	}
	return Palette[i%len(Palette)]
}

func seriesLabel(s Series, i int) string {
	if l := cleanText(s.Label); l != "" {
		return l
	}
	return "series " + strconv.Itoa(i+1)
}

// extents returns the smallest and largest X and Y of the drawable points
// of all series, in one pass; ok is false when there is none.
func extents(series []Series) (x0, x1, y0, y1 float64, ok bool) {
	x0, y0 = math.Inf(1), math.Inf(1)
	x1, y1 = math.Inf(-1), math.Inf(-1)
	for _, s := range series {
		for _, p := range s.Points {
			if !finite(p) {
				continue
			}
			if p.X < x0 {
				x0 = p.X
			}
			if p.X > x1 {
				x1 = p.X
			}
			if p.Y < y0 {
				y0 = p.Y
			}
			if p.Y > y1 {
				y1 = p.Y
			}
		}
	}
	return x0, x1, y0, y1, x0 <= x1
}

// extentYWithin is the Y extent of the drawable points with X in [x0, x1].
func extentYWithin(series []Series, x0, x1 float64) (y0, y1 float64) {
	y0, y1 = math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, p := range s.Points {
			if finite(p) && p.X >= x0 && p.X <= x1 {
				y0, y1 = min(y0, p.Y), max(y1, p.Y)
			}
		}
	}
	return y0, y1
}

// appendHLine appends a horizontal path segment "Mx1,yHx2".
func appendHLine(b []byte, x1, x2, y float64) []byte {
	b = append(b, 'M')
	b = appendCoord(b, x1)
	b = append(b, ',')
	b = appendCoord(b, y)
	b = append(b, 'H')
	return appendCoord(b, x2)
}

// appendVLine appends a vertical path segment "Mx,y1Vy2".
func appendVLine(b []byte, x, y1, y2 float64) []byte {
	b = append(b, 'M')
	b = appendCoord(b, x)
	b = append(b, ',')
	b = appendCoord(b, y1)
	b = append(b, 'V')
	return appendCoord(b, y2)
}

func runeLen(s string) float64 { return float64(len([]rune(s))) }

// computeView lays the chart out for an SVG width in pixels. scratch is
// reused for decimated points; the grown buffer is returned.
func (c *LineChart) computeView(width float64, exporting bool, scratch []Point) (view, []Point) {
	v := view{exporting: exporting, width: width}
	W := width
	v.title.attrs, v.legendLabels.attrs = titleAttrs, legendAttrs
	v.xTickLabels.attrs, v.yTickLabels.attrs = xTickAttrs, yTickAttrs
	v.axisLabels.attrs, v.markerLabels.attrs = axisLabelAttrs, markerAttrs
	v.endLabels.attrs, v.empty.attrs = endLabelAttrs, emptyAttrs
	v.readout = liveText{tag: "p", attrs: readoutAttrs}

	// Draw order: previous runs under the live ones.
	var faded, live []int
	for i, s := range c.Series {
		if s.Faded {
			faded = append(faded, i)
		} else {
			live = append(live, i)
		}
	}
	order := append(append(make([]int, 0, len(c.Series)), faded...), live...)

	// X domain: the data's extent unless fixed. Y domain: the extent of the
	// points inside the x domain, widened below to round values on each
	// side that is not fixed.
	x0, x1, y0, y1, hasData := extents(c.Series)
	if !hasData {
		x0, x1, y0, y1 = 0, 1, 0, 1
	}
	xMin, xMax := validRange(c.XMin, c.XMax)
	if xMin != nil {
		x0 = *xMin
	}
	if xMax != nil {
		x1 = *xMax
	}
	if x1 < x0 { // one fixed bound beyond all the data
		if xMin != nil {
			x1 = x0 + 1
		} else {
			x0 = x1 - 1
		}
	}
	if x0 == x1 {
		x0, x1 = x0-1, x1+1
	}
	if hasData && (xMin != nil || xMax != nil) {
		if y0, y1 = extentYWithin(c.Series, x0, x1); y0 > y1 {
			y0, y1 = 0, 1
		}
	}
	if y0 == y1 {
		pad := math.Abs(y0) * 0.1
		if pad == 0 {
			pad = 1
		}
		y0, y1 = y0-pad, y1+pad
	}

	// Vertical layout: title, legend rows, plot, tick labels, x label.
	top := 12.0
	if t := cleanText(c.Title); t != "" {
		v.title.items = []textItem{{x: "8", y: "19", text: t}}
		top = 32
	}
	if len(live) >= 2 || len(faded) > 0 && len(live) > 0 {
		x, baseline := 8.0, top+10
		for _, i := range live {
			s := c.Series[i]
			label := seriesLabel(s, i)
			w := 22 + runeLen(label)*charW
			if x > 8 && x+w > W-8 {
				x, baseline = 8, baseline+legendRowH
			}
			sw := swatch{x1: coord(x), y1: coord(baseline - 4), x2: coord(x + 18), y2: coord(baseline - 4), stroke: seriesColor(s, i)}
			if s.Dash {
				sw.dash = dashLive
			}
			v.legend = append(v.legend, sw)
			v.legendLabels.items = append(v.legendLabels.items, textItem{x: coord(x + 22), y: coord(baseline), text: label})
			x += w + 14
		}
		top = baseline + 12
	}
	bottom := 26.0
	xLabel := cleanText(c.XLabel)
	if xLabel != "" {
		bottom = 42
	}
	H := math.Max(baseHeight, top+minPlotH+bottom)
	plotTop, plotBottom := top, H-bottom

	yTickCount := max(2, int((plotBottom-plotTop)/40))
	yMin, yMax := validRange(c.YMin, c.YMax)
	if yMin == nil || yMax == nil {
		n0, n1 := niceDomain(y0, y1, yTickCount)
		if yMin == nil {
			y0 = n0
		}
		if yMax == nil {
			y1 = n1
		}
	}
	if yMin != nil {
		y0 = *yMin
	}
	if yMax != nil {
		y1 = *yMax
	}
	if !(y1 > y0) { // a fixed bound on the wrong side of all the data
		if yMin != nil {
			y1 = y0 + 1
		} else {
			y0 = y1 - 1
		}
	}
	yTicks, yStep := ticks(y0, y1, yTickCount, 0)
	yLabels := make([]string, len(yTicks))
	widest := 1.0
	for i, t := range yTicks {
		yLabels[i] = formatTick(t, yStep)
		widest = max(widest, runeLen(yLabels[i]))
	}

	// Horizontal layout: y label, tick labels, plot, end labels of faded runs.
	left := 10 + widest*smallCharW
	yLabel := cleanText(c.YLabel)
	if yLabel != "" {
		left += 18
	}
	right := 14.0
	for _, i := range faded {
		right = max(right, 10+runeLen(seriesLabel(c.Series[i], i))*smallCharW)
	}
	right = min(right, W*0.3)
	plotLeft, plotRight := left, max(left+40, W-right)
	xs := linearScale{x0, x1, plotLeft, plotRight}
	ys := linearScale{y0, y1, plotBottom, plotTop}
	v.xs, v.ys = xs, ys
	v.plotLeft, v.plotRight, v.plotTop, v.plotBottom = plotLeft, plotRight, plotTop, plotBottom
	if xLabel != "" {
		v.axisLabels.items = append(v.axisLabels.items, textItem{x: coord((plotLeft + plotRight) / 2), y: coord(H - 8), text: xLabel})
	}
	if yLabel != "" {
		v.axisLabels.items = append(v.axisLabels.items, textItem{x: "0", y: "0", transform: "translate(14," + coord((plotTop+plotBottom)/2) + ") rotate(-90)", text: yLabel})
	}
	v.root = attrs{{Key: "viewBox", Val: "0 0 " + coord(W) + " " + coord(H)}}
	if exporting {
		v.root = append(v.root, vugu.VGAttribute{Key: "width", Val: coord(W)}, vugu.VGAttribute{Key: "height", Val: coord(H)})
	} else {
		v.root = append(v.root, vugu.VGAttribute{Key: "width", Val: "100%"})
	}

	// Grid, axes with tick marks, and tick labels.
	var grid, axes []byte
	axes = appendVLine(axes, plotLeft, plotTop, plotBottom)
	axes = append(axes, 'H')
	axes = appendCoord(axes, plotRight)
	for i, t := range yTicks {
		y := ys.apply(t)
		grid = appendHLine(grid, plotLeft, plotRight, y)
		axes = appendHLine(axes, plotLeft-4, plotLeft, y)
		v.yTickLabels.items = append(v.yTickLabels.items, textItem{x: coord(plotLeft - 6), y: coord(y + 4), text: yLabels[i]})
	}
	v.yTicks = yTicks
	if y0 < 0 && y1 > 0 {
		v.zeroD = string(appendHLine(nil, plotLeft, plotRight, ys.apply(0)))
	}
	xTicks, xStep := ticks(x0, x1, max(2, int((plotRight-plotLeft)/90)), 1)
	for _, t := range xTicks {
		x := xs.apply(t)
		axes = appendVLine(axes, x, plotBottom, plotBottom+4)
		v.xTickLabels.items = append(v.xTickLabels.items, textItem{x: coord(x), y: coord(plotBottom + 16), text: formatTick(t, xStep)})
	}
	v.xTicks = xTicks
	v.gridD, v.axesD = string(grid), string(axes)

	// Markers inside the x domain.
	var markers []byte
	for _, m := range c.Markers {
		if !(m.X >= x0 && m.X <= x1) {
			continue
		}
		px := xs.apply(m.X)
		markers = appendVLine(markers, px, plotTop, plotBottom)
		label := textItem{x: coord(px + 4), y: coord(plotTop + 11), text: cleanText(m.Label)}
		if px+4+runeLen(label.text)*smallCharW > plotRight {
			label.x, label.anchor = coord(px-4), "end"
		}
		v.markerLabels.items = append(v.markerLabels.items, label)
	}
	v.markerD = string(markers)

	// Lines, decimated, and the end labels of previous runs.
	var b []byte
	type endLabel struct {
		x, y float64
		text string
	}
	var ends []endLabel
	for _, i := range order {
		s := c.Series[i]
		scratch = decimate(scratch[:0], s.Points, x0, x1, maxDrawnPoints/4)
		if len(scratch) == 0 {
			continue
		}
		b = pathData(b[:0], scratch, xs, ys, plotTop, plotBottom)
		l := lineItem{class: "chart-line", d: string(b), stroke: seriesColor(s, i), width: "2"}
		if s.Dash {
			l.dash = dashLive
		}
		if s.Faded {
			l.class, l.width, l.opacity = "chart-line chart-line-faded", "1.25", "0.5"
			if s.Dash {
				l.dash = dashFaded
			}
			last := scratch[len(scratch)-1]
			ends = append(ends, endLabel{xs.apply(last.X) + 4, clampF(ys.apply(last.Y), plotTop, plotBottom) + 4, seriesLabel(s, i)})
		}
		v.lines = append(v.lines, l)
	}
	// Keep end labels 11 px apart, top to bottom, and inside the plot.
	sort.SliceStable(ends, func(a, b int) bool { return ends[a].y < ends[b].y })
	for k := range ends {
		if k > 0 && ends[k].y < ends[k-1].y+11 {
			ends[k].y = ends[k-1].y + 11
		}
	}
	if n := len(ends); n > 0 && ends[n-1].y > plotBottom {
		shift := ends[n-1].y - plotBottom
		for k := range ends {
			ends[k].y -= shift
		}
	}
	fits := max(2, int((right-8)/smallCharW)) // characters of an end label that fit the right margin
	for _, e := range ends {
		if r := []rune(e.text); len(r) > fits {
			e.text = string(r[:fits-1]) + "…" // the tooltip names it in full
		}
		v.endLabels.items = append(v.endLabels.items, textItem{x: coord(e.x), y: coord(e.y), text: e.text})
	}
	if !hasData {
		v.empty.items = []textItem{{x: coord((plotLeft + plotRight) / 2), y: coord((plotTop + plotBottom) / 2), text: "No data yet"}}
	}

	v.label = c.describe(live, x0, x1, hasData)
	if c.hovering && !exporting && hasData {
		c.layoutHover(&v, live, faded)
	}
	return v, scratch
}

func clampF(v, lo, hi float64) float64 { return min(max(v, lo), hi) }

// describe is the chart's accessible name: what it shows, over which
// steps, and the latest value of each live series.
func (c *LineChart) describe(live []int, x0, x1 float64, hasData bool) string {
	var b strings.Builder
	if t := cleanText(c.Title); t != "" {
		b.WriteString(t)
	} else {
		b.WriteString("Chart")
	}
	b.WriteString(". ")
	if !hasData {
		b.WriteString("No data yet.")
		return b.String()
	}
	if l := cleanText(c.XLabel); l != "" {
		b.WriteString(l)
	} else {
		b.WriteString("x")
	}
	b.WriteString(" " + formatStep(x0) + " to " + formatStep(x1) + ".")
	sep := " Latest: "
	for _, i := range live {
		s := c.Series[i]
		for k := len(s.Points) - 1; k >= 0; k-- {
			if p := s.Points[k]; finite(p) {
				b.WriteString(sep + seriesLabel(s, i) + " " + formatValue(p.Y))
				sep = ", "
				break
			}
		}
	}
	if sep == ", " {
		b.WriteString(".")
	}
	b.WriteString(" Arrow keys step through the values.")
	return b.String()
}

// hoverRow is one series' value at the hovered step.
type hoverRow struct {
	series int
	p      Point
}

// hoverRows returns, for the hovered step x, the nearest drawable point of
// every series (live ones first) whose X range covers x.
func (c *LineChart) hoverRows(x float64, live, faded []int) []hoverRow {
	var rows []hoverRow
	for _, group := range [][]int{live, faded} {
		for _, i := range group {
			pts := c.Series[i].Points
			lo, hi, ok := extentX(pts)
			if !ok || x < lo || x > hi {
				continue
			}
			rows = append(rows, hoverRow{i, pts[nearestIndex(pts, x)]})
		}
	}
	return rows
}

// layoutHover adds the crosshair, the dots and the tooltip at the hovered
// step, and says the same in v.readout.
func (c *LineChart) layoutHover(v *view, live, faded []int) {
	step, ok := nearestX(c.Series, c.hoverX)
	if !ok || step < v.xs.d0 || step > v.xs.d1 {
		return
	}
	rows := c.hoverRows(step, live, faded)
	xLabel := cleanText(c.XLabel)
	if xLabel == "" {
		xLabel = "x"
	}
	header := xLabel + " " + formatStep(step)
	h := &hoverItem{texts: labelGroup{attrs: tooltipAttrs}}
	px := v.xs.apply(step)
	h.x1, h.y1, h.x2, h.y2 = coord(px), coord(v.plotTop), coord(px), coord(v.plotBottom)

	// The tooltip lists as many rows as fit in the plot; the readout all.
	shown := len(rows)
	if maxRows := max(1, int((v.plotBottom-v.plotTop-30)/rowH)); shown > maxRows {
		shown = maxRows - 1
	}
	var readout strings.Builder
	readout.WriteString(header + ":")
	widest := runeLen(header)
	var rowTexts []string
	var styles []swatch
	for k, r := range rows {
		s := c.Series[r.series]
		text := seriesLabel(s, r.series) + " " + formatValue(r.p.Y)
		if r.p.X != step {
			text += " (" + xLabel + " " + formatStep(r.p.X) + ")"
		}
		if k > 0 {
			readout.WriteString(",")
		}
		readout.WriteString(" " + text)
		h.dots = append(h.dots, dotItem{coord(v.xs.apply(r.p.X)), coord(clampF(v.ys.apply(r.p.Y), v.plotTop, v.plotBottom)), seriesColor(s, r.series)})
		if k >= shown {
			continue
		}
		sw := swatch{stroke: seriesColor(s, r.series)}
		if s.Dash {
			sw.dash = dashLive
		}
		if s.Faded {
			sw.opacity = "0.6"
		}
		widest = max(widest, runeLen(text)+4)
		rowTexts, styles = append(rowTexts, text), append(styles, sw)
	}
	if shown < len(rows) {
		rowTexts = append(rowTexts, "+"+strconv.Itoa(len(rows)-shown)+" more")
	}
	v.readout.text = readout.String()

	w := 16 + widest*charW
	boxH := 10 + rowH*float64(len(rowTexts)+1)
	bx := px + 10
	if bx+w > v.width-2 {
		bx = max(2, px-10-w)
	}
	by := v.plotTop + 4
	h.box.x, h.box.y, h.box.w, h.box.h = coord(bx), coord(by), coord(w), coord(boxH)
	h.texts.items = append(h.texts.items, textItem{x: coord(bx + 8), y: coord(by + 16), text: header})
	for k, text := range rowTexts {
		baseline := by + 16 + rowH*float64(k+1)
		if k >= len(styles) { // the "+n more" row
			h.texts.items = append(h.texts.items, textItem{x: coord(bx + 8), y: coord(baseline), text: text})
			continue
		}
		sw := styles[k]
		sw.x1, sw.y1, sw.x2, sw.y2 = coord(bx+8), coord(baseline-4), coord(bx+24), coord(baseline-4)
		h.swatches = append(h.swatches, sw)
		h.texts.items = append(h.texts.items, textItem{x: coord(bx + 28), y: coord(baseline), text: text})
	}
	v.hover = h
}
