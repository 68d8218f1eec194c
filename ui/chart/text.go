package chart

import "github.com/vugu/vugu"

// textItem is one <text> of a labelGroup. anchor and transform are left
// out when empty.
type textItem struct{ x, y, anchor, transform, text string }

// labelGroup is a <g> of <text> elements, written as a hand-built vugu
// component (the markup places it with vg-comp). Markup would set each
// element's text with vg-content, which vugu's renderer assigns to
// innerHTML on every render, so the browser re-parses and re-lays out
// every label each frame; here the text is a child text node, which the
// renderer leaves alone while the text is unchanged. Text nodes also need
// no escaping: the browser never parses them.
type labelGroup struct {
	attrs attrs // class and the presentation attributes the texts share
	items []textItem
}

// Build implements vugu.Builder.
func (g *labelGroup) Build(*vugu.BuildIn) *vugu.BuildOut {
	group := &vugu.VGNode{Type: vugu.ElementNode, Namespace: "svg", Data: "g", Attr: g.attrs}
	for _, it := range g.items {
		el := &vugu.VGNode{Type: vugu.ElementNode, Namespace: "svg", Data: "text",
			Attr: []vugu.VGAttribute{{Key: "x", Val: it.x}, {Key: "y", Val: it.y}}}
		if it.anchor != "" {
			el.Attr = append(el.Attr, vugu.VGAttribute{Key: "text-anchor", Val: it.anchor})
		}
		if it.transform != "" {
			el.Attr = append(el.Attr, vugu.VGAttribute{Key: "transform", Val: it.transform})
		}
		el.AppendChild(&vugu.VGNode{Type: vugu.TextNode, Data: it.text})
		group.AppendChild(el)
	}
	return &vugu.BuildOut{Out: []*vugu.VGNode{group}}
}

// liveText is an HTML element whose content is a text node, for the same
// reason as labelGroup.
type liveText struct {
	tag   string
	attrs attrs
	text  string
}

// Build implements vugu.Builder.
func (t *liveText) Build(*vugu.BuildIn) *vugu.BuildOut {
	el := &vugu.VGNode{Type: vugu.ElementNode, Data: t.tag, Attr: t.attrs}
	// Always a text node, even an empty one: vugu leaves the DOM children
	// of an element without children alone, so the old text would stay.
	el.AppendChild(&vugu.VGNode{Type: vugu.TextNode, Data: t.text})
	return &vugu.BuildOut{Out: []*vugu.VGNode{el}}
}
