package tensor

import "sync"

// The portable kernels copy four columns of B at a time into a contiguous
// panel of k quads ([4]float32) and run a 2×4 micro-kernel over pairs of A
// rows: 8 accumulators, 2 values of A and 4 of the panel, which fits the 16
// float registers of Go's WebAssembly backend. Measured in Chromium, the
// packed panel beats reading B through its stride by ~25%, and a
// micro-kernel of its own function beats the same loop inlined into the
// driver (fewer live values, fewer spills). The TN layout also packs blocks
// of Aᵀ so its rows are contiguous.
//
// The micro-kernels are //go:nosplit: Go's WebAssembly backend turns a
// function into one loop over its basic blocks (a br_table dispatch), and
// V8 allocates registers for that loop as a whole. The stack-growth check
// at a function's entry is a call that returns into the function, a resume
// point of the dispatch, and with it V8 (read in node --print-wasm-code)
// kept part of the accumulators and indices in stack slots across every
// iteration. Without it (the only calls left are the panics of failed
// bounds checks, which never return) and with the panel's quads indexed by
// p under a length proven once before the loop, V8 compiles the k-loop to
// a tight loop of loads, multiplies and adds. Measured against the
// previous tiles (a stack check, quads sliced as panel[4p:4p+4]), the
// products ran 1.36× faster under Node's V8 (median over the benchmark
// shapes, 1.09–1.64×) and 1.13× natively (0.89–1.57×).

// blockRowsTN is how many rows of Aᵀ the TN layout packs at a time.
const blockRowsTN = 32

// packBuf holds the buffers of one kernel call: the products' panel of B
// and packed rows of A, and the softmaxes' exponentials (scratch).
type packBuf struct {
	quads   [][4]float32
	rows    []float32
	scratch []float32
}

// packs is a free list of buffers: kernels may run on several goroutines
// natively, and a free list (unlike sync.Pool) is never emptied by the
// garbage collector, so the steady state allocates nothing.
var packs struct {
	sync.Mutex
	free []*packBuf
}

func getPack(quads, rows, scratch int) *packBuf {
	packs.Lock()
	var p *packBuf
	if n := len(packs.free); n > 0 {
		p = packs.free[n-1]
		packs.free = packs.free[:n-1]
	} else {
		p = new(packBuf)
	}
	packs.Unlock()
	p.quads = Grow(p.quads, quads)
	p.rows = Grow(p.rows, rows)
	p.scratch = Grow(p.scratch, scratch)
	return p
}

func putPack(p *packBuf) {
	packs.Lock()
	packs.free = append(packs.free, p)
	packs.Unlock()
}

// Grow returns a buffer of n elements: s resliced when its capacity
// suffices (its elements kept), a new zeroed slice otherwise. It is how the
// kernels and the model reuse their buffers from step to step.
func Grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// GemmNN is the portable NN kernel (see Kernels).
func GemmNN(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc bool) {
	checkGemm("GemmNN", c, ldc, a, lda, b, ldb, m, k, n, false, false)
	gemm(c, ldc, a, lda, b, ldb, m, k, n, acc, false, false)
}

// GemmNT is the portable NT kernel (see Kernels).
func GemmNT(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc bool) {
	checkGemm("GemmNT", c, ldc, a, lda, b, ldb, m, k, n, false, true)
	gemm(c, ldc, a, lda, b, ldb, m, k, n, acc, false, true)
}

// GemmTN is the portable TN kernel (see Kernels).
func GemmTN(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc bool) {
	checkGemm("GemmTN", c, ldc, a, lda, b, ldb, m, k, n, true, false)
	gemm(c, ldc, a, lda, b, ldb, m, k, n, acc, true, false)
}

func gemm(c []float32, ldc int, a []float32, lda int, b []float32, ldb int, m, k, n int, acc, transA, transB bool) {
	if trivial(c, ldc, m, k, n, acc) {
		return
	}
	block := m // NN and NT read A's rows in place: one block
	if transA {
		block = blockRowsTN
	}
	pk := getPack(k, min(block, m)*k, k)
	defer putPack(pk)
	panel := pk.quads
	for i0 := 0; i0 < m; i0 += block {
		mb := min(block, m-i0)
		var rows []float32
		ld := lda
		if transA {
			rows, ld = pk.rows, k
			packRowsT(rows, a, lda, i0, mb, k)
		} else {
			rows = a[i0*lda:]
		}
		j := 0
		for ; j+4 <= n; j += 4 {
			if transB {
				packPanelT(panel, b, ldb, j, k)
			} else {
				packPanel(panel, b, ldb, j, k)
			}
			i := 0
			for ; i+2 <= mb; i += 2 {
				r := (i0+i)*ldc + j
				tile24((*[4]float32)(c[r:r+4]), (*[4]float32)(c[r+ldc:r+ldc+4]), rows[i*ld:i*ld+k], rows[(i+1)*ld:(i+1)*ld+k], panel, acc)
			}
			if i < mb {
				r := (i0+i)*ldc + j
				tile14((*[4]float32)(c[r:r+4]), rows[i*ld:i*ld+k], panel, acc)
			}
		}
		for ; j < n; j++ {
			col := pk.scratch[:k]
			if transB {
				copy(col, b[j*ldb:j*ldb+k])
			} else {
				for p := range col {
					col[p] = b[p*ldb+j]
				}
			}
			for i := 0; i < mb; i++ {
				row := rows[i*ld : i*ld+k]
				var s float32
				for p, x := range row {
					s += x * col[p]
				}
				store(c, (i0+i)*ldc+j, s, acc)
			}
		}
	}
}

// packPanel copies columns j..j+3 of b (k, ·) into panel (k quads).
func packPanel(panel [][4]float32, b []float32, ldb, j, k int) {
	panel = panel[:k]
	for p := range panel {
		src := b[p*ldb+j : p*ldb+j+4 : p*ldb+j+4]
		panel[p] = [4]float32{src[0], src[1], src[2], src[3]}
	}
}

// packPanelT copies rows j..j+3 of b (·, k) into panel (k quads),
// transposed.
func packPanelT(panel [][4]float32, b []float32, ldb, j, k int) {
	panel = panel[:k]
	b0 := b[j*ldb : j*ldb+k]
	b1 := b[(j+1)*ldb : (j+1)*ldb+k]
	b2 := b[(j+2)*ldb : (j+2)*ldb+k]
	b3 := b[(j+3)*ldb : (j+3)*ldb+k]
	for p, v := range b0 {
		panel[p] = [4]float32{v, b1[p], b2[p], b3[p]}
	}
}

// packRowsT copies columns i0..i0+mb−1 of a (k, ·) into rows (mb, k).
func packRowsT(rows, a []float32, lda, i0, mb, k int) {
	for p := 0; p < k; p++ {
		src := a[p*lda+i0 : p*lda+i0+mb]
		for r, v := range src {
			rows[r*k+p] = v
		}
	}
}

// tile24 computes the 2×4 tile c0, c1 from rows a0, a1 (k) and panel
// (k quads).
//
// The bounds check of a1[p] is kept on purpose, in the middle of each
// step: it ends a basic block. Go schedules the additions into the
// accumulators (used only by the next step) at the end of their block,
// after all the products, so one block would hold 8 products and 8
// accumulators at once and spill an accumulator to the stack (a store and a
// load on its dependency chain every step). Split in two, a block holds
// at most 14 live floats, under the 15–16 float registers of both amd64 and
// WebAssembly; measured, 1.1–1.2× faster in Chromium, ~1.5× natively.
// (The check never fails: gemm passes rows of equal length.)
//
// The loop takes four steps of k per pass, each step's sums in the same
// order as one step per pass, so the results do not change by a bit: the
// loop's own work (the index, its bound, and in WebAssembly V8's interrupt
// check, a load and a compare every pass) is paid once per four steps.
// Measured against one step per pass, both in one test binary over the
// benchmark shapes (25 paired rounds each): 1.16× faster natively
// (1.07–1.22× by shape) and 1.06× in Chromium (1.04–1.09×); two steps per
// pass gave 1.09× natively and nothing in Chromium.
//
//go:nosplit
func tile24(c0, c1 *[4]float32, a0, a1 []float32, panel [][4]float32, acc bool) {
	var s00, s01, s02, s03, s10, s11, s12, s13 float32
	panel = panel[:len(a0)]
	p := 0
	for ; p+4 <= len(a0); p += 4 {
		q := &panel[p]
		x0 := a0[p]
		q0, q1 := q[0], q[1]
		s00 += x0 * q0
		s01 += x0 * q1
		x1 := a1[p] // the block boundary (see above)
		s10 += x1 * q0
		s11 += x1 * q1
		q2, q3 := q[2], q[3]
		s02 += x0 * q2
		s03 += x0 * q3
		s12 += x1 * q2
		s13 += x1 * q3
		q = &panel[p+1]
		x0 = a0[p+1]
		q0, q1 = q[0], q[1]
		s00 += x0 * q0
		s01 += x0 * q1
		x1 = a1[p+1]
		s10 += x1 * q0
		s11 += x1 * q1
		q2, q3 = q[2], q[3]
		s02 += x0 * q2
		s03 += x0 * q3
		s12 += x1 * q2
		s13 += x1 * q3
		q = &panel[p+2]
		x0 = a0[p+2]
		q0, q1 = q[0], q[1]
		s00 += x0 * q0
		s01 += x0 * q1
		x1 = a1[p+2]
		s10 += x1 * q0
		s11 += x1 * q1
		q2, q3 = q[2], q[3]
		s02 += x0 * q2
		s03 += x0 * q3
		s12 += x1 * q2
		s13 += x1 * q3
		q = &panel[p+3]
		x0 = a0[p+3]
		q0, q1 = q[0], q[1]
		s00 += x0 * q0
		s01 += x0 * q1
		x1 = a1[p+3]
		s10 += x1 * q0
		s11 += x1 * q1
		q2, q3 = q[2], q[3]
		s02 += x0 * q2
		s03 += x0 * q3
		s12 += x1 * q2
		s13 += x1 * q3
	}
	for ; p < len(a0); p++ {
		q := &panel[p]
		x0 := a0[p]
		q0, q1 := q[0], q[1]
		s00 += x0 * q0
		s01 += x0 * q1
		x1 := a1[p]
		s10 += x1 * q0
		s11 += x1 * q1
		q2, q3 := q[2], q[3]
		s02 += x0 * q2
		s03 += x0 * q3
		s12 += x1 * q2
		s13 += x1 * q3
	}
	if acc {
		s00 += c0[0]
		s01 += c0[1]
		s02 += c0[2]
		s03 += c0[3]
		s10 += c1[0]
		s11 += c1[1]
		s12 += c1[2]
		s13 += c1[3]
	}
	*c0 = [4]float32{s00, s01, s02, s03}
	*c1 = [4]float32{s10, s11, s12, s13}
}

// tile14 is tile24 for a single row.
//
//go:nosplit
func tile14(c0 *[4]float32, a0 []float32, panel [][4]float32, acc bool) {
	panel = panel[:len(a0)]
	var s0, s1, s2, s3 float32
	for p, x := range a0 {
		q := &panel[p]
		s0 += x * q[0]
		s1 += x * q[1]
		s2 += x * q[2]
		s3 += x * q[3]
	}
	if acc {
		s0 += c0[0]
		s1 += c0[1]
		s2 += c0[2]
		s3 += c0[3]
	}
	*c0 = [4]float32{s0, s1, s2, s3}
}
