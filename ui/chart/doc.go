// Package chart draws the playground's live training charts: LineChart is
// a Vugu component that renders series of (step, value) points as an
// accessible SVG line chart, cheap enough to re-render on every animation
// frame while a model trains, and exports itself as a standalone SVG file.
//
// # Using it from another component
//
// Hold the chart in a field of the parent and place it with vg-comp; the
// field keeps the chart's own state (crosshair, measured width) between
// renders and lets the parent call SVG():
//
//	// root.go
//	import "dpoplayground/ui/chart"
//
//	type Root struct {
//		Rewards chart.LineChart
//	}
//
//	<!-- root.vugu -->
//	<section class="charts">
//		<vg-comp expr='&c.Rewards'></vg-comp>
//	</section>
//
// Or write the component as a tag, which vugu creates and keeps per
// position; upper-case attributes set fields (":" for Go expressions),
// lower-case ones (id, class, data-*) go onto the chart's <figure>, and the
// .vugu file imports the package in a Go script block:
//
//	<chart:LineChart id="loss-chart" Title="DPO loss" XLabel="step" YLabel="loss (nats)"
//		:Series='c.LossSeries()' :Markers='c.Markers()'></chart:LineChart>
//	<script type="application/x-go">
//	import "dpoplayground/ui/chart"
//	</script>
//
// # Updating
//
// The chart reads its fields on every render and keeps no copy of the
// points, so updating it is changing the fields under the event
// environment's lock and asking for a render, like any other state:
//
//	env.Lock()
//	s := &root.Rewards.Series[0]
//	s.Points = append(s.Points, chart.Point{X: step, Y: chosen})
//	env.UnlockRender()
//
// Change fields rather than assigning a whole new LineChart: the chart
// keeps its measured width, crosshair and resize observer in unexported
// fields. Each render decimates every series to at most 400 points (M4:
// the first, lowest, highest and last point of each hundredth of the x
// axis), so long runs cost the same as short ones, and changes one path
// attribute per series; the DOM holds no element per point.
//
// # Exporting
//
// SVG returns the chart as drawn, without the crosshair, as a standalone
// SVG document (white background, fonts and colours as presentation
// attributes): offer it as a download, e.g. a Blob of type image/svg+xml
// behind an <a download="loss.svg">.
//
// # Interaction and accessibility
//
// Hovering with a mouse or pen, or tapping on a touch screen, shows a
// crosshair at the nearest step with every series' value there; the
// <svg> is focusable, and ←/→ (one step), PageDown/PageUp (a tenth of the
// axis), Home/End and Escape move or hide the crosshair from the keyboard.
// The values also appear as text in the figure's p.chart-readout, an
// aria-live region, and the <svg>'s aria-label summarises the chart and
// its latest values. Colours come from the Okabe–Ito palette; Dash and the
// labels tell series apart without colour.
//
// # Layout and styling
//
// The chart measures its <figure> with a ResizeObserver and lays itself
// out in CSS pixels, so labels keep their size on a phone; the SVG is
// width 100%. Everything visual is an SVG presentation attribute, never an
// inline style, which the site's Content-Security-Policy (style-src
// 'self') would block. A page's CSS can restyle it (CSS rules beat
// presentation attributes) through the classes figure.chart,
// .chart-title, .chart-legend (swatches), .chart-legend-labels,
// .chart-grid, .chart-zero, .chart-axis, .chart-ticks (-x, -y),
// .chart-axis-labels, .chart-markers, .chart-marker-labels, .chart-line,
// .chart-line-faded, .chart-end-labels, .chart-empty, .chart-hover,
// .chart-crosshair, .chart-tooltip, .chart-tooltip-text and
// .chart-readout. Give figure.chart margin 0 and .chart-readout a
// min-height, so that the page does not shift when a readout appears.
package chart
