package main

import (
	"errors"
	"fmt"
	"slices"
)

// How Go compiles a function to WebAssembly (cmd/internal/obj/wasm): the
// function's basic blocks are laid out in order, each beginning at a
// "resume point", and the whole body sits in one loop whose head is a
// br_table on the function's first parameter, PC_B:
//
//	[prefix: global.get SP; local.set 1]
//	block                 ;; unwind exit (when the function calls)
//	  loop                ;; entry loop
//	    block block … block   ;; one per resume point
//	      local.get 0
//	      br_table …      ;; PC_B → resume point
//	    end
//	    region 0 …
//	    end
//	    region 1 …        ;; one region per resume point
//	  end
//	  unreachable
//	end
//	i32.const 1
//
// Every jump to a block other than the next one is
//
//	i32.const PC; local.set 0; br <entry loop>
//
// so it goes round the br_table, and every loop's back edge with it: V8
// compiles that to an indirect jump, a loop stack check and a register
// allocation over the whole function, which is what makes Go's wasm loops
// so much slower than the same loops natively.
//
// relooper adds to such a function a second copy of its regions, taken
// when PC_B is 0 (every ordinary call), in which each jump is a direct br
// of structured control flow: the regions in an order where every loop is
// contiguous, a wasm loop around each loop of the control-flow graph and a
// block ending just before each target of a forward jump. The original
// body stays, unchanged, for PC_B ≠ 0: Go resumes a function at a resume
// point after its goroutine was unwound at a call, and that path keeps
// working as before. Both copies use the same locals and the same Go stack
// frame, and keep writing PC_B as before (V8 drops those dead stores), so
// they are interchangeable at every call: stack traces, panics and
// goroutine switches are unaffected.
//
// In the copy, a float load whose address is base+C (a constant) loads
// from base at offset C (see foldable), which V8 turns into one addressing
// mode instead of an add and a zero extension per load.
//
// A function whose shape differs from the above in any way, or whose
// control flow is irreducible, is left as it is.

// branch is a br or br_if that leaves its region.
type branch struct {
	to   int // the region it goes to, or unwind
	nest int // constructs open inside the region around it
}

// unwind stands for the unwind exit block as a branch's destination.
const unwind = -1

type fnShape struct {
	expr      []byte
	insts     []inst
	prefixEnd int  // index of the first instruction after the prefix
	hasUnwind bool // prefix is followed by the unwind block
	loopInst  int  // index of the entry loop instruction
	table     []uint32
	regions   [][2]int // instruction index ranges [from, to)
}

// parseShape checks that expr has the shape of a Go function with an entry
// loop and finds its regions.
func parseShape(expr []byte) (*fnShape, error) {
	insts, err := decode(expr)
	if err != nil {
		return nil, err
	}
	s := &fnShape{expr: expr, insts: insts}
	i := 0
	for i < len(insts) && insts[i].op != opBlock && insts[i].op != opLoop {
		switch insts[i].op {
		case opIf, opElse, opEnd, opBr, opBrIf, opBrTable, opReturn, opUnreachable:
			return nil, errors.New("control flow before the entry loop")
		}
		i++
	}
	s.prefixEnd = i
	if i < len(insts) && insts[i].op == opBlock {
		s.hasUnwind = true
		i++
	}
	if i >= len(insts) || insts[i].op != opLoop {
		return nil, errors.New("no entry loop")
	}
	s.loopInst = i
	i++
	k := 0
	for i < len(insts) && insts[i].op == opBlock {
		k++
		i++
	}
	if k == 0 || i+3 > len(insts) || insts[i].op != opLocalGet || insts[i].imm != 0 ||
		insts[i+1].op != opBrTable || insts[i+2].op != opEnd {
		return nil, errors.New("no br_table dispatch")
	}
	s.table = insts[i+1].table
	for _, l := range s.table {
		if int(l) >= k {
			return nil, errors.New("dispatch to an unexpected label")
		}
	}
	i += 3
	// Regions: each top-level end closes one resume point block; the
	// last region ends at the entry loop's end.
	start, nest := i, 0
	for ; i < len(insts); i++ {
		switch insts[i].op {
		case opBlock, opLoop, opIf:
			nest++
		case opEnd:
			if nest > 0 {
				nest--
				continue
			}
			s.regions = append(s.regions, [2]int{start, i})
			start = i + 1
		}
		if len(s.regions) == k {
			break
		}
	}
	if len(s.regions) != k {
		return nil, errors.New("regions do not close")
	}
	// The suffix: end (loop), unreachable, [end (unwind), i32.const 1], end.
	want := []byte{opEnd, opUnreachable}
	if s.hasUnwind {
		want = append(want, opEnd, opI32Const)
	}
	want = append(want, opEnd)
	rest := insts[s.regions[k-1][1]:]
	if len(rest) != len(want) {
		return nil, errors.New("unexpected end of function")
	}
	for j, op := range want {
		if rest[j].op != op {
			return nil, errors.New("unexpected end of function")
		}
	}
	return s, nil
}

func (s *fnShape) lookup(pc int64) int {
	if pc >= 0 && pc < int64(len(s.table)-1) {
		return int(s.table[pc])
	}
	return int(s.table[len(s.table)-1])
}

// flow is the control flow of a function's regions.
type flow struct {
	s       *fnShape
	jumps   []map[int]branch // per region: instruction index → the branch there
	fall    []bool           // the region's end is reachable: it falls into the next one
	trap    []bool           // the region calls a function that never returns normally
	succ    [][]int          // successor regions
	entry   int
	nRegion int
}

// analyze finds the branches of each region and where they go. noReturn
// holds the functions that never return normally (the runtime's panics):
// the code after a call of one, which in wasm terms falls into the next
// region, is unreachable.
func analyze(s *fnShape, noReturn map[uint32]bool) (*flow, error) {
	k := len(s.regions)
	f := &flow{s: s, jumps: make([]map[int]branch, k), fall: make([]bool, k), trap: make([]bool, k), succ: make([][]int, k), entry: s.lookup(0), nRegion: k}
	for r, rg := range s.regions {
		f.jumps[r] = map[int]branch{}
		open := k - 1 - r // resume point blocks still open in region r
		nest := 0
		add := func(t int) {
			if t >= 0 && !slices.Contains(f.succ[r], t) {
				f.succ[r] = append(f.succ[r], t)
			}
		}
		for j := rg[0]; j < rg[1]; j++ {
			in := s.insts[j]
			switch in.op {
			case opBlock, opLoop, opIf:
				nest++
			case opEnd:
				nest--
			case opCall:
				if nest == 0 && noReturn[uint32(in.imm)] {
					f.trap[r] = true
				}
			case opBrTable:
				for _, l := range in.table {
					if int(l) >= nest {
						return nil, errors.New("br_table leaves its region")
					}
				}
			case opBr, opBrIf:
				d := int(in.label)
				if d < nest {
					continue
				}
				rel := d - nest
				switch {
				case rel < open:
					t := r + 1 + rel
					f.jumps[r][j] = branch{t, nest}
					add(t)
				case rel == open:
					if in.op != opBr || j-2 < rg[0] || s.insts[j-2].op != opI32Const ||
						s.insts[j-1].op != opLocalSet || s.insts[j-1].imm != 0 {
						return nil, errors.New("dispatch jump of an unknown form")
					}
					t := s.lookup(s.insts[j-2].imm)
					f.jumps[r][j] = branch{t, nest}
					add(t)
				case rel == open+1 && s.hasUnwind:
					f.jumps[r][j] = branch{unwind, nest}
				default:
					return nil, errors.New("branch out of the function body")
				}
			}
		}
		f.fall[r] = true
		if rg[1] > rg[0] {
			switch s.insts[rg[1]-1].op {
			case opBr, opReturn, opUnreachable, opBrTable:
				f.fall[r] = false
			}
		}
		if f.trap[r] {
			f.fall[r] = false
		}
		if f.fall[r] && r+1 < k {
			add(r + 1)
		}
	}
	return f, nil
}

// layout is the structured form: the regions in order, the loops and the
// blocks around them.
type layout struct {
	order []int
	pos   []int // region → position in order, −1 when unreachable
	cons  []construct
}

type construct struct {
	loop        bool
	first, last int // positions of the first and last region inside
	target      int // region: the loop's header, or the block's target (just after last)
}

// graph is what structure learns of the regions' control flow.
type graph struct {
	rpo   []int          // the regions reachable from the entry, in reverse postorder
	preds [][]int        // their predecessors among those
	body  map[int][]bool // loop header → the regions of its natural loop
}

// structure lays the regions out as structured control flow.
func (f *flow) structure() (*layout, error) {
	g, err := f.graph()
	if err != nil {
		return nil, err
	}
	order, err := f.order(g)
	if err != nil {
		return nil, err
	}
	l := &layout{order: order, pos: make([]int, f.nRegion)}
	for i := range l.pos {
		l.pos[i] = -1
	}
	for p, u := range order {
		l.pos[u] = p
	}
	for h, bh := range g.body {
		first, last := l.pos[h], l.pos[h]
		for x, in := range bh {
			if in {
				first, last = min(first, l.pos[x]), max(last, l.pos[x])
			}
		}
		if first != l.pos[h] || last-first+1 != count(bh) {
			return nil, errors.New("loop not contiguous")
		}
		l.cons = append(l.cons, construct{loop: true, first: first, last: last, target: h})
	}
	if err := l.addBlocks(f, g); err != nil {
		return nil, err
	}
	// Outer constructs first: earlier start, then later end, then loops
	// before blocks of the same span.
	slices.SortFunc(l.cons, func(a, b construct) int {
		if a.first != b.first {
			return a.first - b.first
		}
		if a.last != b.last {
			return b.last - a.last
		}
		if a.loop != b.loop {
			if a.loop {
				return -1
			}
			return 1
		}
		return 0
	})
	return l, nil
}

// graph finds the regions reachable from the entry, their dominators
// (Cooper, Harvey and Kennedy) and natural loops, and fails for
// irreducible control flow.
func (f *flow) graph() (*graph, error) {
	k := f.nRegion
	post := make([]int, 0, k)
	seen := make([]bool, k)
	var dfs func(int)
	dfs = func(u int) {
		seen[u] = true
		for _, v := range f.succ[u] {
			if !seen[v] {
				dfs(v)
			}
		}
		post = append(post, u)
	}
	dfs(f.entry)
	g := &graph{rpo: make([]int, len(post)), preds: make([][]int, k), body: map[int][]bool{}}
	num := make([]int, k) // position in rpo
	for i, u := range post {
		g.rpo[len(post)-1-i] = u
	}
	for i, u := range g.rpo {
		num[u] = i
	}
	for _, u := range g.rpo {
		for _, v := range f.succ[u] {
			g.preds[v] = append(g.preds[v], u)
		}
	}
	idom := make([]int, k)
	for i := range idom {
		idom[i] = -1
	}
	idom[f.entry] = f.entry
	for changed := true; changed; {
		changed = false
		for _, u := range g.rpo[1:] {
			nd := -1
			for _, p := range g.preds[u] {
				if idom[p] < 0 {
					continue
				}
				if nd < 0 {
					nd = p
					continue
				}
				a, b := p, nd
				for a != b {
					for num[a] > num[b] {
						a = idom[a]
					}
					for num[b] > num[a] {
						b = idom[b]
					}
				}
				nd = a
			}
			if nd >= 0 && idom[u] != nd {
				idom[u] = nd
				changed = true
			}
		}
	}
	dominates := func(a, b int) bool {
		for {
			if a == b {
				return true
			}
			if b == f.entry {
				return false
			}
			b = idom[b]
		}
	}
	// Every retreating edge must be a back edge (the graph is reducible);
	// its target heads a loop.
	for _, u := range g.rpo {
		for _, v := range f.succ[u] {
			if num[v] > num[u] {
				continue
			}
			if !dominates(v, u) {
				return nil, fmt.Errorf("irreducible control flow: %d→%d", u, v)
			}
			in := g.body[v]
			if in == nil {
				in = make([]bool, k)
				in[v] = true
				g.body[v] = in
			}
			stack := []int{u}
			for len(stack) > 0 {
				x := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if in[x] {
					continue
				}
				in[x] = true
				stack = append(stack, g.preds[x]...)
			}
		}
	}
	// Natural loops of a reducible graph nest: check it.
	for h, bh := range g.body {
		for h2, bg := range g.body {
			if h2 == h || !bh[h2] {
				continue
			}
			for x := range bg {
				if bg[x] && !bh[x] {
					return nil, errors.New("loops do not nest")
				}
			}
		}
	}
	return g, nil
}

// order returns the reachable regions in a topological order of the forward
// edges in which each loop is contiguous, preferring Go's own order among
// the regions ready to be placed.
func (f *flow) order(g *graph) ([]int, error) {
	k := f.nRegion
	var order []int
	var place func(set []bool, head int) error
	place = func(set []bool, head int) error {
		// rep[x]: the header of the outermost loop in set (other than
		// head's) that contains x, or x itself.
		rep := make([]int, k)
		for x := range rep {
			rep[x] = x
		}
		best := make([]int, k) // size of the loop chosen for x
		for h, bh := range g.body {
			if h == head || !set[h] {
				continue
			}
			size := count(bh)
			for x, in := range bh {
				if in && set[x] && size > best[x] {
					rep[x], best[x] = h, size
				}
			}
		}
		indeg := map[int]int{}
		edges := map[int][]int{}
		for x := range set {
			if set[x] {
				indeg[rep[x]] += 0
			}
		}
		for u := range set {
			if !set[u] {
				continue
			}
			for _, v := range f.succ[u] {
				if !set[v] || v == head || rep[u] == rep[v] || slices.Contains(edges[rep[u]], rep[v]) {
					continue
				}
				edges[rep[u]] = append(edges[rep[u]], rep[v])
				indeg[rep[v]]++
			}
		}
		var ready []int
		for x, d := range indeg {
			if d == 0 {
				ready = append(ready, x)
			}
		}
		placed := 0
		for len(ready) > 0 {
			slices.Sort(ready)
			x := ready[0]
			ready = ready[1:]
			placed++
			if bx := g.body[x]; bx != nil && x != head {
				inner := make([]bool, k)
				for y := range bx {
					inner[y] = bx[y] && set[y]
				}
				if err := place(inner, x); err != nil {
					return err
				}
			} else {
				order = append(order, x)
			}
			for _, y := range edges[x] {
				indeg[y]--
				if indeg[y] == 0 {
					ready = append(ready, y)
				}
			}
		}
		if placed != len(indeg) {
			return errors.New("no topological order")
		}
		return nil
	}
	all := make([]bool, k)
	for _, u := range g.rpo {
		all[u] = true
	}
	if err := place(all, -1); err != nil {
		return nil, err
	}
	if len(order) != len(g.rpo) || order[0] != f.entry {
		return nil, errors.New("bad order")
	}
	return order, nil
}

// addBlocks adds a block for every target of a forward jump (or of a
// fall-through that is not to the next position), starting at its earliest
// source, then moves starts earlier until blocks nest with the loops and
// with each other.
func (l *layout) addBlocks(f *flow, g *graph) error {
	start := map[int]int{}
	need := func(u, v int) {
		if s, ok := start[v]; !ok || l.pos[u] < s {
			start[v] = l.pos[u]
		}
	}
	inLoopOf := func(h, u int) bool { return g.body[h] != nil && g.body[h][u] }
	for _, u := range l.order {
		for _, b := range f.jumps[u] {
			if b.to == unwind {
				continue
			}
			if l.pos[b.to] > l.pos[u] {
				need(u, b.to)
			} else if !inLoopOf(b.to, u) {
				return errors.New("backward jump to a region that is not its loop's header")
			}
		}
		if f.fall[u] && u+1 < f.nRegion {
			v := u + 1
			if l.pos[v] > l.pos[u]+1 {
				need(u, v)
			} else if l.pos[v] <= l.pos[u] && !inLoopOf(v, u) {
				return errors.New("backward fall-through")
			}
		}
	}
	loops := l.cons // only loops so far; the blocks are appended below
	for changed := true; changed; {
		changed = false
		for v, s := range start {
			e := l.pos[v] - 1 // last position inside
			for _, c := range loops {
				if c.first < s && s <= c.last && e > c.last {
					start[v], s, changed = c.first, c.first, true
				}
				if s < c.first && c.first <= e && e < c.last {
					return errors.New("a jump enters a loop")
				}
			}
			for v2, s2 := range start {
				e2 := l.pos[v2] - 1
				if s < s2 && s2 <= e && e < e2 {
					start[v2], changed = s, true
				}
			}
		}
	}
	for v, s := range start {
		l.cons = append(l.cons, construct{first: s, last: l.pos[v] - 1, target: v})
	}
	return nil
}

func count(b []bool) int {
	n := 0
	for _, x := range b {
		if x {
			n++
		}
	}
	return n
}

// emit writes the function's new expression: the prefix, then (inside the
// unwind block) the relooped copy under `if PC_B == 0`, then the original
// entry loop and what follows it, unchanged.
func (f *flow) emit(l *layout) (_ []byte, folded int, _ error) {
	s := f.s
	out := slices.Clone(s.expr[:s.insts[s.prefixEnd].start])
	if s.hasUnwind {
		out = append(out, opBlock, 0x40)
	}
	out = append(out, opLocalGet, 0, opI32Eqz, opIf, 0x40)
	var stack []construct
	depthOf := func(nest int, pred func(construct) bool) (int, bool) {
		for i := len(stack) - 1; i >= 0; i-- {
			if pred(stack[i]) {
				return nest + len(stack) - 1 - i, true
			}
		}
		return 0, false
	}
	jump := func(nest, from, to int) (int, error) {
		var d int
		var ok bool
		if l.pos[to] <= l.pos[from] {
			d, ok = depthOf(nest, func(c construct) bool { return c.loop && c.target == to })
		} else {
			d, ok = depthOf(nest, func(c construct) bool { return !c.loop && c.target == to })
		}
		if !ok {
			return 0, fmt.Errorf("no label for the jump from region %d to %d", from, to)
		}
		return d, nil
	}
	ci := 0
	for p, u := range l.order {
		for ci < len(l.cons) && l.cons[ci].first == p {
			c := l.cons[ci]
			if c.loop {
				out = append(out, opLoop, 0x40)
			} else {
				out = append(out, opBlock, 0x40)
			}
			stack = append(stack, c)
			ci++
		}
		rg := s.regions[u]
		for j := rg[0]; j < rg[1]; j++ {
			if off, ok := s.foldable(j, rg[1]); ok {
				ld := s.insts[j+3]
				out = append(out, opI32WrapI64, ld.op)
				out = appendU32(appendU32(out, ld.align), uint32(off))
				j += 3
				folded++
				continue
			}
			in := s.insts[j]
			b, ok := f.jumps[u][j]
			if !ok {
				out = append(out, s.expr[in.start:in.end]...)
				continue
			}
			var d int
			if b.to == unwind {
				d = b.nest + len(stack) + 1
			} else {
				var err error
				if d, err = jump(b.nest, u, b.to); err != nil {
					return nil, 0, err
				}
			}
			out = appendU32(append(out, in.op), uint32(d))
		}
		if f.trap[u] {
			out = append(out, opUnreachable)
		}
		if f.fall[u] {
			switch v := u + 1; {
			case v >= f.nRegion:
				out = append(out, opUnreachable)
			case l.pos[v] == p+1:
			default:
				d, err := jump(0, u, v)
				if err != nil {
					return nil, 0, err
				}
				out = appendU32(append(out, opBr), uint32(d))
			}
		}
		for len(stack) > 0 && stack[len(stack)-1].last == p {
			out = append(out, opEnd)
			stack = stack[:len(stack)-1]
		}
		for _, c := range stack {
			if c.last <= p {
				return nil, 0, errors.New("constructs do not nest")
			}
		}
	}
	if len(stack) != 0 || ci != len(l.cons) {
		return nil, 0, errors.New("constructs left open")
	}
	out = append(out, opUnreachable, opEnd)
	out = append(out, s.expr[s.insts[s.loopInst].start:]...)
	return out, folded, nil
}

// foldable reports whether the instructions from j (before end) are
//
//	i64.const C; i64.add; i32.wrap_i64; f32.load/f64.load offset=O
//
// with C ≥ 0 and O+C < 2³², and returns O+C. Go folds a constant added to
// an address into the offset of an integer load but not of a float load;
// the copy that emit writes loads from i32.wrap_i64(base) at offset O+C,
// which is the same address: Go's addresses lie below 2³² (the memory is
// at most 4 GiB), so wrapping base+C and adding O equals adding O+C to the
// wrapped base, the assumption Go's own folding of integer loads makes.
func (s *fnShape) foldable(j, end int) (int64, bool) {
	if j+3 >= end {
		return 0, false
	}
	c, add, wrap, ld := s.insts[j], s.insts[j+1], s.insts[j+2], s.insts[j+3]
	if c.op != opI64Const || add.op != opI64Add || wrap.op != opI32WrapI64 ||
		(ld.op != opF32Load && ld.op != opF64Load) || c.imm < 0 {
		return 0, false
	}
	off := ld.imm + c.imm
	return off, off < 1<<32
}

// reloopExpr returns the relooped expression of a function body and how
// many float loads it folded an address constant into.
func reloopExpr(expr []byte, noReturn map[uint32]bool) ([]byte, int, error) {
	s, err := parseShape(expr)
	if err != nil {
		return nil, 0, err
	}
	f, err := analyze(s, noReturn)
	if err != nil {
		return nil, 0, err
	}
	l, err := f.structure()
	if err != nil {
		return nil, 0, err
	}
	return f.emit(l)
}
