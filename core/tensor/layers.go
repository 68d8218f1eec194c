package tensor

import (
	"math"
)

// LayerNormEps is GPT-2's layer_norm_epsilon.
const LayerNormEps = 1e-5

// LayerNorm normalises each row of inp and applies the affine weight and bias,
// keeping the row mean and 1/std that the backward pass needs.
// out, inp are (n, c); w, b are (c); mean, rstd are (n).
//
//	out[i,:] = (inp[i,:] − μ_i)·rstd_i·w + b,  rstd_i = 1/sqrt(var_i + eps)
//
// Each pass over a row is a small nosplit function of its own. V8 allocates
// registers for a Go function's whole block dispatch at once (see gemm.go),
// and with all passes in one function it kept loop indices and slice
// bounds in stack slots, stored and reloaded on every pass; split, the
// forward ran 1.12× and the backward 1.34× faster in Chromium (natively
// 1.09× and 1.20×; medians of 40 paired rounds at the bench shape).
func LayerNorm(out, mean, rstd, inp, w, b []float32, n, c int) {
	w, b = w[:c], b[:c]
	for i := 0; i < n; i++ {
		x := inp[i*c : i*c+c]
		m := rowSum(x) / float32(c)
		va := rowSqDev(x, m) / float32(c)
		s := float32(1 / math.Sqrt(float64(va)+LayerNormEps))
		normAffine(out[i*c:i*c+c], x, w, b, m, s)
		mean[i], rstd[i] = m, s
	}
}

// rowSum is Σ x[j], added in order. The row passes take four elements per
// pass (one bounds check each, a quarter of the loop overhead, which
// WebAssembly pays dearly) and add in the same order as a plain loop.
// rowSum is small enough to be inlined, which would put its loop back into
// LayerNorm's dispatch.
//
//go:nosplit
//go:noinline
func rowSum(x []float32) float32 {
	var m float32
	j := 0
	for ; j+4 <= len(x); j += 4 {
		v := x[j : j+4 : j+4]
		m += v[0]
		m += v[1]
		m += v[2]
		m += v[3]
	}
	for ; j < len(x); j++ {
		m += x[j]
	}
	return m
}

// rowSqDev is Σ (x[j]−m)², added in order.
//
//go:nosplit
func rowSqDev(x []float32, m float32) float32 {
	var va float32
	j := 0
	for ; j+4 <= len(x); j += 4 {
		v := x[j : j+4 : j+4]
		d0, d1, d2, d3 := v[0]-m, v[1]-m, v[2]-m, v[3]-m
		va += d0 * d0
		va += d1 * d1
		va += d2 * d2
		va += d3 * d3
	}
	for ; j < len(x); j++ {
		d := x[j] - m
		va += d * d
	}
	return va
}

// normAffine writes o = (x−m)·s·w + b.
//
//go:nosplit
func normAffine(o, x, w, b []float32, m, s float32) {
	c := len(x)
	o, w, b = o[:c], w[:c], b[:c]
	j := 0
	for ; j+4 <= c; j += 4 {
		v, wj, bj, oj := x[j:j+4:j+4], w[j:j+4:j+4], b[j:j+4:j+4], o[j:j+4:j+4]
		oj[0] = (v[0]-m)*s*wj[0] + bj[0]
		oj[1] = (v[1]-m)*s*wj[1] + bj[1]
		oj[2] = (v[2]-m)*s*wj[2] + bj[2]
		oj[3] = (v[3]-m)*s*wj[3] + bj[3]
	}
	for ; j < c; j++ {
		o[j] = (x[j]-m)*s*w[j] + b[j]
	}
}

// LayerNormBackward adds the gradients of LayerNorm into dinp, dw and db.
// dout, inp, dinp are (n, c); w, dw, db are (c); mean, rstd are (n).
func LayerNormBackward(dinp, dw, db, dout, inp, w, mean, rstd []float32, n, c int) {
	w, dw, db = w[:c], dw[:c], db[:c]
	for i := 0; i < n; i++ {
		do := dout[i*c : i*c+c]
		x := inp[i*c : i*c+c]
		m, s := mean[i], rstd[i]
		dnMean, dnNormMean := lnBackRow(do, x, w, m, s)
		lnBackApply(dinp[i*c:i*c+c], dw, db, do, x, w, m, s, dnMean/float32(c), dnNormMean/float32(c))
	}
}

// lnBackRow sums dnorm = w·dout and dnorm·norm over a row, in order (the
// two means of the backward pass, before the division by c).
//
//go:nosplit
func lnBackRow(do, x, w []float32, m, s float32) (dnMean, dnNormMean float32) {
	c := len(do)
	x, w = x[:c], w[:c]
	j := 0
	for ; j+4 <= c; j += 4 {
		g, xj, wj := do[j:j+4:j+4], x[j:j+4:j+4], w[j:j+4:j+4]
		n0, n1, n2, n3 := (xj[0]-m)*s, (xj[1]-m)*s, (xj[2]-m)*s, (xj[3]-m)*s
		d0, d1, d2, d3 := wj[0]*g[0], wj[1]*g[1], wj[2]*g[2], wj[3]*g[3]
		dnMean += d0
		dnNormMean += d0 * n0
		dnMean += d1
		dnNormMean += d1 * n1
		dnMean += d2
		dnNormMean += d2 * n2
		dnMean += d3
		dnNormMean += d3 * n3
	}
	for ; j < c; j++ {
		norm := (x[j] - m) * s
		dn := w[j] * do[j]
		dnMean += dn
		dnNormMean += dn * norm
	}
	return dnMean, dnNormMean
}

// lnBackApply adds one row's gradients into di, dw and db.
//
//go:nosplit
func lnBackApply(di, dw, db, do, x, w []float32, m, s, dnMean, dnNormMean float32) {
	c := len(do)
	di, dw, db, x, w = di[:c], dw[:c], db[:c], x[:c], w[:c]
	j := 0
	for ; j+4 <= c; j += 4 {
		g, xj, wj := do[j:j+4:j+4], x[j:j+4:j+4], w[j:j+4:j+4]
		dbj, dwj, dij := db[j:j+4:j+4], dw[j:j+4:j+4], di[j:j+4:j+4]
		// Loaded before the first store: the compiler cannot tell that the
		// stores leave g, xj and wj alone, and would load them again.
		g0, g1, g2, g3 := g[0], g[1], g[2], g[3]
		n0, n1, n2, n3 := (xj[0]-m)*s, (xj[1]-m)*s, (xj[2]-m)*s, (xj[3]-m)*s
		e0, e1, e2, e3 := wj[0]*g0, wj[1]*g1, wj[2]*g2, wj[3]*g3
		dbj[0] += g0
		dwj[0] += n0 * g0
		dij[0] += (e0 - dnMean - n0*dnNormMean) * s
		dbj[1] += g1
		dwj[1] += n1 * g1
		dij[1] += (e1 - dnMean - n1*dnNormMean) * s
		dbj[2] += g2
		dwj[2] += n2 * g2
		dij[2] += (e2 - dnMean - n2*dnNormMean) * s
		dbj[3] += g3
		dwj[3] += n3 * g3
		dij[3] += (e3 - dnMean - n3*dnNormMean) * s
	}
	for ; j < c; j++ {
		norm := (x[j] - m) * s
		g := do[j]
		db[j] += g
		dw[j] += norm * g
		di[j] += (w[j]*g - dnMean - norm*dnNormMean) * s
	}
}

// LayerNormNaive is the reference loop of LayerNorm.
func LayerNormNaive(out, mean, rstd, inp, w, b []float32, n, c int) {
	w, b = w[:c], b[:c]
	for i := 0; i < n; i++ {
		x := inp[i*c : i*c+c]
		var m float32
		for _, v := range x {
			m += v
		}
		m /= float32(c)
		var va float32
		for _, v := range x {
			d := v - m
			va += d * d
		}
		va /= float32(c)
		s := float32(1 / math.Sqrt(float64(va)+LayerNormEps))
		o := out[i*c : i*c+c]
		for j, v := range x {
			o[j] = (v-m)*s*w[j] + b[j]
		}
		mean[i], rstd[i] = m, s
	}
}

// LayerNormBackwardNaive is the reference loop of LayerNormBackward.
func LayerNormBackwardNaive(dinp, dw, db, dout, inp, w, mean, rstd []float32, n, c int) {
	w, dw, db = w[:c], dw[:c], db[:c]
	for i := 0; i < n; i++ {
		do := dout[i*c : i*c+c]
		x := inp[i*c : i*c+c]
		di := dinp[i*c : i*c+c]
		m, s := mean[i], rstd[i]
		// Two reductions: mean of dnorm and mean of dnorm·norm, with dnorm = w·dout.
		var dnMean, dnNormMean float32
		for j, g := range do {
			norm := (x[j] - m) * s
			dn := w[j] * g
			dnMean += dn
			dnNormMean += dn * norm
		}
		dnMean /= float32(c)
		dnNormMean /= float32(c)
		for j, g := range do {
			norm := (x[j] - m) * s
			dn := w[j] * g
			db[j] += g
			dw[j] += norm * g
			di[j] += (dn - dnMean - norm*dnNormMean) * s
		}
	}
}

// GELU constant sqrt(2/π) of the tanh approximation (HF "gelu_new").
const geluScale = 0.7978845608028654

// GELU applies gelu_new elementwise: out = ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
// out may alias inp.
func GELU(out, inp []float32) {
	out = out[:len(inp)]
	for i, x := range inp {
		cube := 0.044715 * x * x * x
		out[i] = 0.5 * x * (1 + tanh32(geluScale*(x+cube)))
	}
}

// GELUKeep is GELU that also keeps th[i] = tanh(√(2/π)(x + 0.044715x³)), so
// that the backward pass (GELUFromTanh, GELUBackwardTanh) needs no
// exponential: the tanh is most of GELU's cost.
//
// tanh32(a) = sign(a)·(1 − e)/(1 + e) with e = expf(−2|a|); the
// exponentials are computed in bulk (expfs), the same values as tanh32's.
func GELUKeep(out, th, inp []float32) {
	out = out[:len(inp)]
	th = th[:len(inp)]
	if done := kern.GELU(out, th, inp); done < len(inp) {
		geluKeepPortable(out[done:], th[done:], inp[done:])
	}
}

// geluKeepPortable is the portable GELU kernel (see GELUKeep).
func geluKeepPortable(out, th, inp []float32) int {
	out = out[:len(inp)]
	th = th[:len(inp)]
	var buf [expChunk]float32 // static calls only: stays on the stack
	for lo := 0; lo < len(inp); lo += expChunk {
		hi := min(lo+expChunk, len(inp))
		x, t, o := inp[lo:hi], th[lo:hi], out[lo:hi]
		for i, v := range x {
			a := geluScale * (v + 0.044715*v*v*v)
			o[i] = a // kept for its sign
			t[i] = -2 * float32(math.Abs(float64(a)))
		}
		e := buf[:len(x)]
		expfsPortable(e, t, 0)
		fixLarge(e, t, 0)
		for i, v := range x {
			tv := (1 - e[i]) / (1 + e[i])
			tv = float32(math.Copysign(float64(tv), float64(o[i])))
			t[i] = tv
			o[i] = 0.5 * v * (1 + tv)
		}
	}
	return len(inp)
}

// GELUFromTanh recomputes GELU's output from its input and kept tanh; it
// equals GELU's result bit for bit.
func GELUFromTanh(out, inp, th []float32) {
	out = out[:len(inp)]
	th = th[:len(inp)]
	for i, x := range inp {
		out[i] = 0.5 * x * (1 + th[i])
	}
}

// GELUBackward writes dinp = dout·gelu'(inp). Unlike the other backward
// functions it overwrites, so that dinp may alias dout and the MLP needs no
// second (n, 4c) buffer.
func GELUBackward(dinp, inp, dout []float32) {
	dinp = dinp[:len(inp)]
	dout = dout[:len(inp)]
	for i, x := range inp {
		cube := 0.044715 * x * x * x
		th := tanh32(geluScale * (x + cube))
		dinp[i] = geluGrad(x, th) * dout[i]
	}
}

// GELUBackwardTanh is GELUBackward with the tanh kept by GELUKeep.
//
//go:nosplit
func GELUBackwardTanh(dinp, inp, th, dout []float32) {
	dinp = dinp[:len(inp)]
	dout = dout[:len(inp)]
	th = th[:len(inp)]
	for i, x := range inp {
		dinp[i] = geluGrad(x, th[i]) * dout[i]
	}
}

// geluGrad is gelu'(x) given th = tanh(√(2/π)(x + 0.044715x³)).
func geluGrad(x, th float32) float32 {
	sech2 := 1 - th*th
	return 0.5*(1+th) + 0.5*x*sech2*geluScale*(1+3*0.044715*x*x)
}

// Add sets out = a + b elementwise (the residual connection).
func Add(out, a, b []float32) {
	out = out[:len(a)]
	b = b[:len(a)]
	for i, v := range a {
		out[i] = v + b[i]
	}
}

// AddTo adds src into dst elementwise.
//
//go:nosplit
func AddTo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}

// AddBias adds bias (c) to every row of out (n, c).
//
//go:nosplit
func AddBias(out, bias []float32, n, c int) {
	bias = bias[:c]
	for i := 0; i < n; i++ {
		row := out[i*c : i*c+c]
		for j, v := range bias {
			row[j] += v
		}
	}
}

// BiasBackward adds the column sums of dout (n, c) into dbias (c).
//
//go:nosplit
func BiasBackward(dbias, dout []float32, n, c int) {
	dbias = dbias[:c]
	for i := 0; i < n; i++ {
		row := dout[i*c : i*c+c]
		for j, v := range row {
			dbias[j] += v
		}
	}
}

// Embed writes out[t,:] = wte[ids[t],:] + wpe[pos[t],:] for each of the n tokens.
// wte is (V, c), wpe is (P, c), out is (n, c).
func Embed(out []float32, ids, pos []int32, wte, wpe []float32, n, c int) {
	for t := 0; t < n; t++ {
		o := out[t*c : t*c+c]
		we := wte[int(ids[t])*c : int(ids[t])*c+c]
		pe := wpe[int(pos[t])*c : int(pos[t])*c+c]
		for j := range o {
			o[j] = we[j] + pe[j]
		}
	}
}

// EmbedBackward adds dout[t,:] into dwte[ids[t],:] and dwpe[pos[t],:].
func EmbedBackward(dwte, dwpe, dout []float32, ids, pos []int32, n, c int) {
	for t := 0; t < n; t++ {
		d := dout[t*c : t*c+c]
		AddTo(dwte[int(ids[t])*c:int(ids[t])*c+c], d)
		AddTo(dwpe[int(pos[t])*c:int(pos[t])*c+c], d)
	}
}

// Linear is HF's Conv1D: out = inp·w + bias, with the weight stored (in, out).
// inp is (n, in), w is (in, out), bias is (out), out is (n, out).
func Linear(out, inp, w, bias []float32, n, in, outDim int) {
	for i := 0; i < n; i++ {
		copy(out[i*outDim:i*outDim+outDim], bias[:outDim])
	}
	MatMul(out, inp, w, n, in, outDim, true)
}

// LinearBackward adds the gradients of Linear into dw and dbias, and writes
// dinp = dout·wᵀ (overwriting: the layer's input gradient is consumed by the
// layer below, which adds it where it belongs).
func LinearBackward(dinp, dw, dbias, dout, inp, w []float32, n, in, outDim int) {
	MatMulAT(dw, inp, dout, in, n, outDim)
	BiasBackward(dbias, dout, n, outDim)
	MatMulBT(dinp, dout, w, n, outDim, in, false)
}
