package chart

import (
	"math"

	"github.com/vugu/vugu"
	js "github.com/vugu/vugu/js"
)

// Colours of the Okabe–Ito palette, which readers with any common form of
// colour blindness can tell apart; give each metric the same colour on
// every chart.
const (
	ColorChosen   = "#0072B2" // blue
	ColorRejected = "#D55E00" // vermillion
	ColorMargin   = "#009E73" // bluish green
	ColorLoss     = "#444444" // near black
	ColorAccuracy = "#CC79A7" // reddish purple
	ColorGradNorm = "#E69F00" // orange
	ColorFaded    = fadedGrey // previous runs
)

// Palette colours live series that have no Color, in this order.
var Palette = []string{ColorChosen, ColorRejected, ColorMargin, ColorAccuracy, ColorGradNorm, ColorLoss}

// Point is one value of a series: X is the global step number.
type Point struct{ X, Y float64 }

// Series is one line of a chart.
type Series struct {
	Label string // e.g. "chosen", or for a previous run "β=0.5" / "ipo"
	Color string // CSS colour; "" takes the Palette colour of its position (grey when Faded)
	Dash  bool   // drawn dashed, to tell series apart without colour
	// Faded marks a previous run: thin, translucent, drawn under the live
	// series and labelled at its end instead of in the legend.
	Faded  bool
	Points []Point // in increasing X; points with a NaN or infinite coordinate are skipped
}

// Marker is a vertical rule across the plot at X, e.g. where DPO starts.
type Marker struct {
	X     float64
	Label string
}

// LineChart is a Vugu component that draws series as lines in an SVG, with
// ticks, labelled axes, a legend, markers and a hover crosshair whose
// values pointer, touch and arrow keys move. Set its exported fields and
// re-render; see the package documentation for the markup.
type LineChart struct {
	Title  string
	XLabel string // e.g. "step"
	YLabel string // with its unit, e.g. "reward (nats)"
	// YMin and YMax fix the y range (e.g. 0 and 1 for accuracy); nil
	// follows the data, widened to round values.
	YMin, YMax *float64
	// XMin and XMax fix the x range (e.g. 0 and the run's last step, so
	// the axis does not rescale while training); nil follows the data.
	XMin, XMax *float64
	Series     []Series
	Markers    []Marker
	// AttrMap receives the lower-case attributes written on the component's
	// tag (id, class, data-*); they go onto its <figure>.
	AttrMap vugu.AttrMap

	v       view    // what the markup draws, from BeforeBuild
	scratch []Point // decimation buffer, reused between renders

	hovering bool
	hoverX   float64 // the hovered step, in data units
	// pointerInside: a mouse is over the chart, so losing focus keeps the
	// crosshair.
	pointerInside bool

	width    float64 // the measured width of the <figure>, 0 before
	env      vugu.EventEnv
	figure   js.Value
	observer js.Value
	onResize js.Func
}

// BeforeBuild lays the chart out for this render (vugu calls it before
// Build).
func (c *LineChart) BeforeBuild() {
	c.v, c.scratch = c.computeView(c.layoutWidth(), false, c.scratch)
}

// layoutWidth is the SVG's width in user units: the measured width of the
// figure, so that one unit is one CSS pixel and text keeps its size on a
// phone, or defaultWidth before the browser has measured it.
func (c *LineChart) layoutWidth() float64 {
	if c.width == 0 {
		return defaultWidth
	}
	return c.width
}

// setWidth records a measured width and reports whether the layout
// changes; widths under half a pixel of the current one are noise.
func (c *LineChart) setWidth(w float64) bool {
	if !(w > 0) || math.IsInf(w, 0) {
		return false
	}
	w = clampF(math.Round(w), minWidth, maxWidth)
	if math.Abs(w-c.layoutWidth()) < 0.5 {
		return false
	}
	c.width = w
	return true
}

// Init keeps the event environment, which the resize callback locks.
func (c *LineChart) Init(ctx vugu.InitCtx) {
	c.env = ctx.EventEnv()
}

// figureCreated runs after each render with the <figure> (vg-js-create):
// the first time, and whenever vugu replaced the element, it starts a
// ResizeObserver that re-lays the chart out when the figure's width
// changes. Browsers without ResizeObserver keep the default width, scaled.
func (c *LineChart) figureCreated(el js.Value) {
	if c.observer.Truthy() && js.Global().Get("Object").Call("is", el, c.figure).Bool() {
		return
	}
	c.stopObserving()
	ro := js.Global().Get("ResizeObserver")
	if !ro.Truthy() {
		return
	}
	c.figure = el
	c.onResize = js.FuncOf(func(this js.Value, args []js.Value) any {
		entries := args[0]
		if entries.Length() == 0 {
			return nil
		}
		w := entries.Index(0).Get("contentRect").Get("width").Float()
		if c.env == nil {
			return nil
		}
		c.env.Lock()
		if c.setWidth(w) {
			c.env.UnlockRender()
		} else {
			c.env.UnlockOnly()
		}
		return nil
	})
	c.observer = ro.New(c.onResize)
	c.observer.Call("observe", el)
}

func (c *LineChart) stopObserving() {
	if c.observer.Truthy() {
		c.observer.Call("disconnect")
		c.onResize.Release()
	}
	c.observer, c.figure = js.Null(), js.Null()
}

// Destroy stops the resize observer when the chart leaves the page.
func (c *LineChart) Destroy() {
	c.stopObserving()
}

// pointerMoved shows the values at the step under the pointer (mouse
// hover, pen, or a tap on a touch screen).
func (c *LineChart) pointerMoved(ev vugu.DOMEvent) {
	if ev.PropString("pointerType") == "mouse" {
		c.pointerInside = true
	}
	rect := ev.JSEventCurrentTarget().Call("getBoundingClientRect")
	left, width := rect.Get("left").Float(), rect.Get("width").Float()
	if !(width > 0) {
		return
	}
	c.hoverAtPixel((ev.PropFloat64("clientX") - left) * c.v.width / width)
}

// pointerLeft hides the crosshair when a mouse leaves; after a tap it stays
// until the chart loses focus.
func (c *LineChart) pointerLeft(ev vugu.DOMEvent) {
	if ev.PropString("pointerType") == "touch" {
		return
	}
	c.pointerInside = false
	c.hovering = false
}

// blurred hides a crosshair that the keyboard or a tap placed.
func (c *LineChart) blurred() {
	if !c.pointerInside {
		c.hovering = false
	}
}

// keyDown moves the crosshair: ←/→ one step, PageDown/PageUp a tenth of
// the axis back/forward, Home/End to the ends, Escape hides it. The page
// does not scroll for a key the chart used.
func (c *LineChart) keyDown(ev vugu.DOMEvent) {
	if c.moveHover(ev.PropString("key")) {
		ev.PreventDefault()
	}
}

// hoverAtPixel hovers the step nearest to the x pixel px of the SVG
// (clamped to the plot).
func (c *LineChart) hoverAtPixel(px float64) {
	if math.IsNaN(px) {
		return
	}
	x := c.v.xs.invert(clampF(px, c.v.plotLeft, c.v.plotRight))
	if step, ok := nearestX(c.Series, x); ok {
		c.hovering, c.hoverX = true, step
	}
}

// moveHover applies a key to the crosshair and reports whether the key
// meant something to the chart.
func (c *LineChart) moveHover(key string) bool {
	first, last, _, _, found := extents(c.Series)
	if !found {
		return false
	}
	cur := last // the first arrow press starts at the newest step
	if c.hovering {
		cur, _ = nearestX(c.Series, c.hoverX)
	}
	to, ok := cur, true
	switch key {
	case "ArrowRight":
		if c.hovering {
			to, ok = nextX(c.Series, cur, +1)
		}
	case "ArrowLeft":
		if c.hovering {
			to, ok = nextX(c.Series, cur, -1)
		}
	case "PageUp", "PageDown":
		jump := (last - first) / 10
		if key == "PageDown" {
			jump = -jump
		}
		if c.hovering {
			to, ok = nearestX(c.Series, cur+jump)
		}
	case "Home":
		to = first
	case "End":
		to = last
	case "Escape":
		was := c.hovering
		c.hovering = false
		return was
	default:
		return false
	}
	if ok {
		c.hovering, c.hoverX = true, to
	}
	return true
}
