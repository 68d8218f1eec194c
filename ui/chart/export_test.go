package chart

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// xmlElement is one parsed element of an export.
type xmlElement struct {
	name  xml.Name
	attrs map[string]string
	text  string // character data directly inside it
}

// parseSVG reads doc with encoding/xml in strict mode and returns its
// elements in document order; it fails the test on any XML error or a
// repeated attribute (which browsers reject and encoding/xml accepts).
func parseSVG(t *testing.T, doc string) []*xmlElement {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	var all, stack []*xmlElement
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the export is not well-formed XML: %v\n%s", err, doc)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			el := &xmlElement{name: tok.Name, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				key := a.Name.Local
				if a.Name.Space != "" {
					key = a.Name.Space + ":" + key
				}
				if _, dup := el.attrs[key]; dup {
					t.Errorf("<%s> repeats the attribute %s", tok.Name.Local, key)
				}
				el.attrs[key] = a.Value
			}
			all, stack = append(all, el), append(stack, el)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		}
	}
	if len(stack) != 0 {
		t.Fatalf("%d unclosed elements", len(stack))
	}
	return all
}

func elementsNamed(els []*xmlElement, name string) []*xmlElement {
	var out []*xmlElement
	for _, el := range els {
		if el.name.Local == name {
			out = append(out, el)
		}
	}
	return out
}

func TestSVGIsStandaloneXML(t *testing.T) {
	title := "Rewards <chosen> & \"rejected\" 'β'\x00\n"
	c := &LineChart{
		Title: title, XLabel: "step", YLabel: "reward (nats)",
		Series: []Series{
			{Label: "chosen", Color: ColorChosen, Points: noisy(2000)},
			{Label: "rejected </text>", Color: ColorRejected, Dash: true, Points: ramp(2000, 0, -1)},
			{Label: "β=0.5", Faded: true, Points: ramp(1500, 0, 0.5)},
		},
		Markers: []Marker{{X: 100, Label: "DPO starts"}},
	}
	c.setWidth(500)
	doc := c.SVG()
	if !strings.HasPrefix(doc, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<svg ") {
		t.Errorf("the export starts %q", doc[:min(80, len(doc))])
	}
	els := parseSVG(t, doc)
	root := els[0]
	if root.name.Local != "svg" || root.name.Space != "http://www.w3.org/2000/svg" {
		t.Fatalf("root element %v, want svg in the SVG namespace", root.name)
	}
	if root.attrs["width"] != "500" || root.attrs["height"] != "260" || root.attrs["viewBox"] != "0 0 500 260" {
		t.Errorf("size attributes %q %q %q", root.attrs["width"], root.attrs["height"], root.attrs["viewBox"])
	}
	if root.attrs["font-family"] == "" || root.attrs["fill"] == "" {
		t.Error("the export lacks its font or text colour")
	}
	for _, el := range els {
		if _, ok := el.attrs["tabindex"]; ok {
			t.Errorf("<%s> keeps tabindex in the export", el.name.Local)
		}
	}
	if bg := elementsNamed(els, "rect"); len(bg) == 0 || bg[0].attrs["fill"] != "#ffffff" {
		t.Error("no white background")
	}
	wantTitle := `Rewards <chosen> & "rejected" 'β'`
	if got := elementsNamed(els, "title"); len(got) != 1 || !strings.HasPrefix(got[0].text, wantTitle+". step 0 to 1999.") {
		t.Errorf("<title> %v", got)
	}
	var shown []string
	for _, el := range elementsNamed(els, "text") {
		shown = append(shown, el.text)
	}
	for _, want := range []string{wantTitle, "step", "reward (nats)", "chosen", "rejected </text>", "β=0.5", "DPO starts", "1000"} {
		found := false
		for _, s := range shown {
			found = found || s == want
		}
		if !found {
			t.Errorf("no <text> reads %q; texts: %q", want, shown)
		}
	}
	var paths []*xmlElement
	for _, p := range elementsNamed(els, "path") {
		if strings.HasPrefix(p.attrs["class"], "chart-line") {
			paths = append(paths, p)
		}
	}
	if len(paths) != 3 {
		t.Fatalf("%d paths, want one per series", len(paths))
	}
	for _, p := range paths {
		if n := len(pathPoints(t, p.attrs["d"])); n > maxDrawnPoints {
			t.Errorf("a path of %d vertices", n)
		}
	}
	if paths[0].attrs["stroke-opacity"] != "0.5" || paths[2].attrs["stroke-dasharray"] != dashLive {
		t.Errorf("path styles: %v / %v", paths[0].attrs, paths[2].attrs)
	}
	// Everything visual is an attribute: a page CSP that forbids inline
	// styles cannot break the chart.
	if strings.Contains(doc, "style") {
		t.Error("the export uses a style attribute or element")
	}
}

func TestSVGOfEmptyChart(t *testing.T) {
	els := parseSVG(t, (&LineChart{}).SVG())
	var empty bool
	for _, el := range elementsNamed(els, "text") {
		empty = empty || el.text == "No data yet"
	}
	if !empty {
		t.Error("an empty chart exports without its “No data yet”")
	}
	for _, p := range elementsNamed(els, "path") {
		if strings.HasPrefix(p.attrs["class"], "chart-line") {
			t.Errorf("an empty chart exports a line: %v", p.attrs)
		}
	}
}
