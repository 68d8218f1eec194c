package chart

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

// FuzzLineChart feeds arbitrary numbers (NaN, ±Inf, ±1e308, disorder) as
// points, ranges, markers and widths: the chart must lay out, hover,
// take keys and export well-formed XML without panicking.
func FuzzLineChart(f *testing.F) {
	f.Add([]byte{}, "")
	f.Add(binary.LittleEndian.AppendUint64(nil, math.Float64bits(math.NaN())), "β")
	var seed []byte
	for _, v := range []float64{0, 1, 1, 1e308, 2, -1e308, math.Inf(1), 3, 3, 3, -0.0, 5e-324, 4, math.NaN(), 1, 2, 600, 300, 7, -7} {
		seed = binary.LittleEndian.AppendUint64(seed, math.Float64bits(v))
	}
	f.Add(seed, "a\x00<b>&")
	f.Fuzz(runFuzzBody)
}

func runFuzzBody(t *testing.T, data []byte, label string) {
	{
		var vals []float64
		for len(data) >= 8 {
			vals = append(vals, math.Float64frombits(binary.LittleEndian.Uint64(data)))
			data = data[8:]
		}
		next := func() float64 {
			if len(vals) == 0 {
				return 0
			}
			v := vals[0]
			vals = vals[1:]
			return v
		}
		c := &LineChart{Title: label, XLabel: label, YLabel: label}
		if len(vals)%3 == 1 {
			lo, hi := next(), next()
			c.YMin, c.XMax = &lo, &hi
		}
		for s := 0; s < 3 && len(vals) > 0; s++ {
			series := Series{Label: label, Faded: s == 2, Dash: s == 1}
			for n := int(math.Mod(math.Abs(next()), 50)); n > 0 && len(vals) >= 2; n-- {
				series.Points = append(series.Points, Point{next(), next()})
			}
			c.Series = append(c.Series, series)
		}
		c.Markers = []Marker{{X: next(), Label: label}}
		c.setWidth(next())
		c.BeforeBuild()
		c.hoverAtPixel(next())
		for _, key := range []string{"ArrowLeft", "PageUp", "End", "ArrowRight", "Home", "PageDown"} {
			c.moveHover(key)
			c.BeforeBuild()
		}
		for _, el := range parseSVG(t, c.SVG()) {
			for _, name := range []string{"d", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "width", "height", "viewBox", "transform"} {
				if v := el.attrs[name]; strings.Contains(v, "NaN") || strings.Contains(v, "Inf") {
					t.Errorf("<%s %s=%q>: not a number", el.name.Local, name, v)
				}
			}
		}
	}
}
