package chart

import (
	"fmt"
	"strings"
)

// The example sits in package chart, not chart_test: vugugen refuses a
// folder that holds two packages.

// An accuracy chart with a fixed 0..1 range, exported as an SVG file's
// contents (the page offers it for download).
func ExampleLineChart_SVG() {
	zero, one := 0.0, 1.0
	c := &LineChart{
		Title:  "Preference accuracy",
		XLabel: "step",
		YLabel: "accuracy",
		YMin:   &zero,
		YMax:   &one,
		Series: []Series{{
			Label:  "rewards/accuracies",
			Color:  ColorAccuracy,
			Points: []Point{{X: 0, Y: 0.5}, {X: 1, Y: 0.75}, {X: 2, Y: 1}},
		}},
	}
	svg := c.SVG()
	fmt.Println(strings.SplitN(svg, "\n", 2)[0])
	fmt.Println(strings.Count(svg, `<path class="chart-line"`), "line")
	fmt.Println(strings.Contains(svg, ">Preference accuracy</text>"))
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?>
	// 1 line
	// true
}
