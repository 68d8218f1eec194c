package chart

import (
	"encoding/xml"
	"strings"

	"github.com/vugu/vugu"
)

// SVG returns the chart as a standalone SVG document, as drawn now but
// without the hover crosshair: explicit width and height, a white
// background, and fonts and colours as presentation attributes, so that
// it looks the same in a file viewer, an editor or an <img>. It is the
// same markup the page shows (the component's own Build, serialised), so
// the export cannot drift from the chart.
func (c *LineChart) SVG() string {
	saved := c.v
	defer func() { c.v = saved }()
	c.v, c.scratch = c.computeView(c.layoutWidth(), true, c.scratch)
	env, _ := vugu.NewBuildEnv() // never fails; vg-comp wires through it
	in := &vugu.BuildIn{BuildEnv: env}
	out := c.Build(in)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if svg := findElement(out.Out[0], "svg"); svg != nil {
		writeXML(&b, svg, in)
	}
	b.WriteString("\n")
	return b.String()
}

// findElement returns the first element named name in n's tree, depth first.
func findElement(n *vugu.VGNode, name string) *vugu.VGNode {
	if n.Type == vugu.ElementNode && n.Data == name {
		return n
	}
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if found := findElement(ch, name); found != nil {
			return found
		}
	}
	return nil
}

// textEscaper escapes text nodes: the markup's indentation and the labels
// (cleanText has removed control characters, which XML forbids). Line
// breaks and tabs stay as they are.
var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// exportSkipsAttr names the attributes that only make sense on the page.
func exportSkipsAttr(key string) bool {
	return key == "tabindex"
}

// writeXML writes n as XML. Text nodes and attribute values are escaped
// here; text set with vg-content is already escaped (vugu escapes it as
// HTML, which XML reads the same). Components (vg-comp) write what they
// build, templates (vg-template) only their children, comments nothing.
func writeXML(b *strings.Builder, n *vugu.VGNode, in *vugu.BuildIn) {
	if comp, ok := n.Component.(vugu.Builder); ok {
		for _, out := range comp.Build(in).Out {
			writeXML(b, out, in)
		}
		return
	}
	switch {
	case n.Type == vugu.TextNode:
		textEscaper.WriteString(b, n.Data)
		return
	case n.IsTemplate():
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			writeXML(b, ch, in)
		}
		return
	case n.Type != vugu.ElementNode:
		return
	}
	b.WriteString("<" + n.Data)
	for _, a := range n.Attr {
		if exportSkipsAttr(a.Key) {
			continue
		}
		b.WriteString(" " + a.Key + `="`)
		xml.EscapeText(b, []byte(a.Val))
		b.WriteString(`"`)
	}
	if n.InnerHTML == nil && n.FirstChild == nil {
		b.WriteString("/>")
		return
	}
	b.WriteString(">")
	if n.InnerHTML != nil {
		b.WriteString(*n.InnerHTML)
	} else {
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			writeXML(b, ch, in)
		}
	}
	b.WriteString("</" + n.Data + ">")
}
