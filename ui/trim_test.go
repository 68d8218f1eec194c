package ui

import (
	"strings"
	"testing"

	"github.com/vugu/vugu"
)

// tree is a component whose output the test writes by hand.
type tree struct{ out func() *vugu.BuildOut }

func (c *tree) Build(*vugu.BuildIn) *vugu.BuildOut { return c.out() }

func el(tag string, children ...*vugu.VGNode) *vugu.VGNode {
	n := &vugu.VGNode{Type: vugu.ElementNode, Data: tag}
	for _, ch := range children {
		n.AppendChild(ch)
	}
	return n
}

func text(s string) *vugu.VGNode { return &vugu.VGNode{Type: vugu.TextNode, Data: s} }

func attr(n *vugu.VGNode, k, v string) *vugu.VGNode {
	n.Attr = append(n.Attr, vugu.VGAttribute{Key: k, Val: v})
	return n
}

func children(n *vugu.VGNode) []*vugu.VGNode {
	var out []*vugu.VGNode
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		out = append(out, ch)
	}
	return out
}

func TestTrimDropsIndentationAndFillsEmptyElements(t *testing.T) {
	var root *vugu.VGNode
	comp := &tree{func() *vugu.BuildOut {
		root = el("div", text("\n\t"), el("pre", text("\n  kept\n")), text(" "), el("ul"), text("\n"), el("input"), el("textarea"), text("x\n"))
		return &vugu.BuildOut{Out: []*vugu.VGNode{root}}
	}}
	env, _ := vugu.NewBuildEnv()
	NewTrimmer().Trim(env.RunBuild(comp))
	kids := children(root)
	var tags []string
	for _, k := range kids {
		tags = append(tags, k.Data)
	}
	if strings.Join(tags, "|") != "pre| |ul|input|textarea|x\n" {
		t.Fatalf("children %q", tags)
	}
	if children(kids[0])[0].Data != "\n  kept\n" {
		t.Error("whitespace inside <pre> was dropped")
	}
	if kids[2].InnerHTML == nil || *kids[2].InnerHTML != "" {
		t.Error("an empty <ul> did not get an empty innerHTML (its stale DOM children would stay)")
	}
	if kids[3].InnerHTML != nil || kids[4].InnerHTML != nil {
		t.Error("a void element or a textarea got an innerHTML")
	}
	if kids[1].PrevSibling != kids[0] || root.LastChild != kids[5] || kids[5].NextSibling != nil {
		t.Error("sibling links broken after dropping nodes")
	}
}

// An unchanged subtree in the same place is pruned; a change anywhere in
// it, or a move, renders it again.
func TestTrimPrunesUnchangedSubtrees(t *testing.T) {
	label, before := "a", false
	var root, list, item *vugu.VGNode
	comp := &tree{func() *vugu.BuildOut {
		item = attr(el("li", text(label)), "class", "x")
		list = el("ul", item, el("li", text("b")))
		kids := []*vugu.VGNode{el("h1", text("title")), list}
		if before {
			kids = append([]*vugu.VGNode{el("p", text("alert"))}, kids...)
		}
		root = el("div", kids...)
		return &vugu.BuildOut{Out: []*vugu.VGNode{root}}
	}}
	env, _ := vugu.NewBuildEnv()
	tr := NewTrimmer()
	build := func() { tr.Trim(env.RunBuild(comp)); tr.Restore() }

	build()
	if tr.Pruned != 0 || list.FirstChild == nil {
		t.Fatalf("first render pruned %d", tr.Pruned)
	}
	build()
	if root.FirstChild != nil || tr.Pruned == 0 {
		t.Fatalf("an identical page was not pruned at its root (pruned %d)", tr.Pruned)
	}
	label = "changed"
	build()
	if root.FirstChild == nil || list.FirstChild == nil || item.FirstChild == nil {
		t.Fatal("the changed item's ancestors were pruned")
	}
	if h1 := children(root)[0]; h1.FirstChild != nil {
		t.Error("the unchanged heading was not pruned")
	}
	if second := children(list)[1]; second.FirstChild != nil {
		t.Error("the unchanged second item was not pruned")
	}
	before = true // everything moves one place down
	build()
	if list.FirstChild == nil || children(root)[1].FirstChild == nil {
		t.Error("a subtree that moved was pruned: its DOM place holds other nodes")
	}
}

// A kept (memoized) build is pruned at its root in the same place, and its
// children come back after the render.
func TestTrimKeptBuilds(t *testing.T) {
	a, _ := newApp(false)
	a.Start("")
	root := &Root{App: a, Charts: &Charts{}}
	env, _ := vugu.NewBuildEnv()
	tr := NewTrimmer()
	settingsRoot := func(br *vugu.BuildResults) *vugu.VGNode {
		for c := range componentsOf(br, br.Out) {
			if sp, ok := c.(*SettingsPanel); ok {
				return br.ResultFor(sp).Out[0]
			}
		}
		t.Fatal("no SettingsPanel in the page")
		return nil
	}
	br := env.RunBuild(root)
	first := settingsRoot(br)
	tr.Trim(br)
	tr.Restore()
	br = env.RunBuild(root)
	if settingsRoot(br) != first {
		t.Fatal("the settings panel was built again with nothing changed")
	}
	tr.Trim(br)
	if first.FirstChild != nil {
		t.Error("the kept settings panel was not pruned")
	}
	tr.Restore()
	if first.FirstChild == nil {
		t.Fatal("Restore did not give the kept tree its children back")
	}
	a.SetField("seed", "5")
	br = env.RunBuild(root)
	if settingsRoot(br) == first {
		t.Error("the settings panel was not built again after a change")
	}
}

// componentsOf lists every component of a build.
func componentsOf(br *vugu.BuildResults, out *vugu.BuildOut) map[any]bool {
	seen := map[any]bool{}
	var walk func(o *vugu.BuildOut)
	walk = func(o *vugu.BuildOut) {
		for _, c := range o.Components {
			if !seen[c] {
				seen[c] = true
				walk(br.ResultFor(c))
			}
		}
	}
	walk(out)
	return seen
}
