package ui

import (
	"encoding/binary"
	"hash/maphash"
	"strings"

	"github.com/vugu/vugu"
)

// Trimmer cuts a Vugu build down to what the DOM needs before each render.
//
// Vugu v0.4.0 re-sends the whole virtual DOM on every render, every node
// with every attribute, and its browser helper decodes and applies all of
// it; while a model trains the page renders ten times a second, and a full
// render of the page cost tens of milliseconds of the page's thread. Its
// renderer leaves an element's DOM children alone when the element has no
// virtual children and no innerHTML, so Trim, between Build and Render:
//
//   - drops text nodes that only hold the markup's indentation (whitespace
//     with a line break, outside <pre> and <textarea>): a third of the nodes;
//   - prunes the children of every element whose whole subtree is the same
//     as in the previous render at the same place (same tags on the path
//     from the root, same position among siblings): the DOM below it is
//     still what that render made, with the same event handlers registered
//     at the same positions. Only changed subtrees reach the browser;
//   - gives every other element without children an empty innerHTML, since
//     the same behaviour of the renderer would otherwise leave the DOM
//     children of a list that became empty on the page.
//
// A memoized component (see memo.go) returns the very same output tree
// while its state is unchanged; Trim then prunes it at its root without
// looking inside. As such a tree may be reused later at another place,
// nothing inside it is ever pruned: its DOM must match the whole tree.
type Trimmer struct {
	seed maphash.Seed
	prev map[uint64]uint64 // path hash → subtree hash, of the last render
	next map[uint64]uint64
	// prevOut and nextOut: each memoized component's output and path.
	prevOut, nextOut map[any]placedOut
	// Pruned counts the elements whose children the last Trim pruned.
	Pruned int
	// detached are the kept trees' roots whose children Trim took away for
	// the render; Restore gives them back.
	detached []detachedChildren
	stack    []uint64 // children's hashes during the walk
}

type detachedChildren struct {
	n                     *vugu.VGNode
	firstChild, lastChild *vugu.VGNode
}

type placedOut struct {
	out  *vugu.BuildOut
	path uint64
}

// memoized marks the components whose Build returns a kept output.
type memoized interface{ keepsBuild() }

func (*SettingsPanel) keepsBuild() {}
func (*DataPanel) keepsBuild()     {}
func (*SharePanel) keepsBuild()    {}
func (*NotesPanel) keepsBuild()    {}

// NewTrimmer returns a Trimmer with no previous render.
func NewTrimmer() *Trimmer {
	return &Trimmer{seed: maphash.MakeSeed(), prev: map[uint64]uint64{}, next: map[uint64]uint64{},
		prevOut: map[any]placedOut{}, nextOut: map[any]placedOut{}}
}

// Restore gives the kept trees back the children that Trim detached; call
// it after rendering, as they may be rendered again elsewhere.
func (t *Trimmer) Restore() {
	for _, d := range t.detached {
		d.n.FirstChild, d.n.LastChild = d.firstChild, d.lastChild
	}
	t.detached = t.detached[:0]
}

// Trim prepares br for rendering; the renderer must then render it, and
// Restore must follow.
func (t *Trimmer) Trim(br *vugu.BuildResults) {
	if br == nil || br.Out == nil || len(br.Out.Out) == 0 {
		return
	}
	clear(t.next)
	clear(t.nextOut)
	t.Pruned = 0
	var h maphash.Hash
	h.SetSeed(t.seed)
	t.visit(br, br.Out.Out[0], t.pathHash(0, 0, "root"), true, &h)
	t.prev, t.next = t.next, t.prev
	t.prevOut, t.nextOut = t.nextOut, t.prevOut
}

// voidElements never have children, so an empty innerHTML means nothing.
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true, "textarea": true,
}

func (t *Trimmer) pathHash(parent uint64, index int, tag string) uint64 {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], parent)
	binary.LittleEndian.PutUint64(b[8:], uint64(index))
	var h maphash.Hash
	h.SetSeed(t.seed)
	h.Write(b[:])
	h.WriteString(tag)
	return h.Sum64()
}

// visit trims n's subtree (n at path hash path) and returns its hash; it
// prunes only where mayPrune.
func (t *Trimmer) visit(br *vugu.BuildResults, n *vugu.VGNode, path uint64, mayPrune bool, scratch *maphash.Hash) uint64 {
	if n.Type != vugu.ElementNode || n.IsTemplate() {
		return t.leafHash(n, scratch)
	}
	keepSpace := n.Data == "pre" || n.Data == "textarea"
	// The children's hashes go on a stack shared by the whole walk, so a
	// render allocates nothing here.
	base := len(t.stack)
	index := 0
	var prev *vugu.VGNode
	for ch := n.FirstChild; ch != nil; {
		next := ch.NextSibling
		if !keepSpace && ch.Type == vugu.TextNode && isLayoutWhitespace(ch.Data) {
			unlink(n, prev, ch, next)
			ch = next
			continue
		}
		h := t.visitChild(br, ch, path, index, mayPrune, scratch)
		t.stack = append(t.stack, h)
		index++
		prev, ch = ch, next
	}
	if n.FirstChild == nil && n.InnerHTML == nil && !voidElements[n.Data] {
		empty := ""
		n.InnerHTML = &empty
	}
	h := t.elementHash(n, t.stack[base:], scratch)
	t.stack = t.stack[:base]
	t.next[path] = h
	if mayPrune && n.FirstChild != nil && t.prev[path] == h {
		n.FirstChild, n.LastChild = nil, nil
		t.Pruned++
	}
	return h
}

// visitChild visits the node at index among its parent's children, or,
// for a component, the root of its output, which the renderer puts there.
func (t *Trimmer) visitChild(br *vugu.BuildResults, ch *vugu.VGNode, parent uint64, index int, mayPrune bool, scratch *maphash.Hash) uint64 {
	if ch.Component == nil {
		tag := ""
		if ch.Type == vugu.ElementNode {
			tag = ch.Data
		}
		return t.visit(br, ch, t.pathHash(parent, index, tag), mayPrune, scratch)
	}
	out := br.ResultFor(ch.Component)
	if out == nil || len(out.Out) != 1 {
		return 0
	}
	root := out.Out[0]
	if root.Component != nil {
		return t.visitChild(br, root, parent, index, mayPrune, scratch)
	}
	path := t.pathHash(parent, index, root.Data)
	if _, ok := ch.Component.(memoized); !ok {
		return t.visit(br, root, path, mayPrune, scratch)
	}
	t.nextOut[ch.Component] = placedOut{out, path}
	if last, ok := t.prevOut[ch.Component]; ok && last == (placedOut{out, path}) {
		if h, ok := t.prev[path]; ok {
			// The same tree as last time, in the same place.
			t.next[path] = h
			if root.FirstChild != nil {
				t.detached = append(t.detached, detachedChildren{root, root.FirstChild, root.LastChild})
				root.FirstChild, root.LastChild = nil, nil
				t.Pruned++
			}
			return h
		}
	}
	return t.visit(br, root, path, false, scratch)
}

func unlink(parent, prev, ch, next *vugu.VGNode) {
	if prev == nil {
		parent.FirstChild = next
	} else {
		prev.NextSibling = next
	}
	if next != nil {
		next.PrevSibling = prev
	}
	if parent.LastChild == ch {
		parent.LastChild = prev
	}
	ch.Parent, ch.PrevSibling, ch.NextSibling = nil, nil, nil
}

func isLayoutWhitespace(s string) bool {
	return strings.ContainsAny(s, "\n\r") && strings.TrimSpace(s) == ""
}

// leafHash hashes a text or comment node (or a template, never pruned,
// whose hash then only has to differ from everything else).
func (t *Trimmer) leafHash(n *vugu.VGNode, h *maphash.Hash) uint64 {
	h.Reset()
	h.WriteByte(byte(n.Type))
	h.WriteString(n.Data)
	if n.IsTemplate() {
		h.WriteString("\x00template")
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			h.WriteString(ch.Data)
		}
	}
	return h.Sum64()
}

// elementHash hashes everything the renderer sends for an element: tag,
// attributes, properties, innerHTML, event listeners, callbacks, children.
func (t *Trimmer) elementHash(n *vugu.VGNode, children []uint64, h *maphash.Hash) uint64 {
	h.Reset()
	sep := func() { h.WriteByte(0) }
	h.WriteString(n.Namespace)
	sep()
	h.WriteString(n.Data)
	sep()
	for _, a := range n.Attr {
		h.WriteString(a.Namespace)
		sep()
		h.WriteString(a.Key)
		sep()
		h.WriteString(a.Val)
		sep()
	}
	h.WriteByte(1)
	for _, p := range n.Prop {
		h.WriteString(p.Key)
		sep()
		h.Write(p.JSONVal)
		sep()
	}
	h.WriteByte(2)
	if n.InnerHTML != nil {
		h.WriteByte(1)
		h.WriteString(*n.InnerHTML)
	}
	h.WriteByte(3)
	for _, s := range n.DOMEventHandlerSpecList {
		h.WriteString(s.EventType)
		h.WriteByte(boolByte(s.Capture))
		h.WriteByte(boolByte(s.Passive))
	}
	h.WriteByte(boolByte(n.JSCreateHandler != nil))
	h.WriteByte(boolByte(n.JSPopulateHandler != nil))
	var b [8]byte
	for _, c := range children {
		binary.LittleEndian.PutUint64(b[:], c)
		h.Write(b[:])
	}
	return h.Sum64()
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
