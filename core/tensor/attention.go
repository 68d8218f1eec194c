package tensor

import (
	"math"
)

// Segment is one sequence inside a packed batch: tokens [Start, Start+Len) of
// the (n, ·) activation matrices. Attention never crosses segments.
type Segment struct{ Start, Len int }

// AttentionSize is the length of the attention-probability buffer for segs:
// Σ nh·Len², one (Len, Len) lower-triangular matrix per head and segment.
func AttentionSize(segs []Segment, nh int) int {
	s := 0
	for _, g := range segs {
		s += nh * g.Len * g.Len
	}
	return s
}

// AttentionScratchSize is the scratch AttentionBackward needs for segs: one
// (Len, Len) matrix of the longest segment.
func AttentionScratchSize(segs []Segment) int {
	m := 0
	for _, g := range segs {
		m = max(m, g.Len)
	}
	return m * m
}

// attnBlock is the number of query rows attention handles per matrix
// product. Rows t of a block see keys u < end of the block, so the products
// skip most of the masked upper triangle (at Len 64: 2560 of 4096 scores
// computed, against 2080 needed) while each call stays large enough for the
// kernels.
const attnBlock = 16

// Attention is causal multi-head self-attention over packed segments.
// qkv is (n, 3c): per token q, k, v in that order, each split into nh heads of
// c/nh contiguous values. out is (n, c). att (AttentionSize) receives the
// softmax probabilities that the backward pass needs.
//
//	att[h,t,u] = softmax_u≤t( q_t·k_u / sqrt(c/nh) ),  out[t,h] = Σ_u att[h,t,u]·v_u
//
// The products run through the kernel set (NT for the scores, NN for the
// output) over blocks of attnBlock query rows; the masked probabilities are
// exact zeros, so the sums equal the causal loops' term for term.
func Attention(out, att, qkv []float32, segs []Segment, c, nh int) {
	hs := c / nh
	scale := float32(1 / math.Sqrt(float64(hs)))
	c3 := 3 * c
	off := 0
	pk := getPack(0, 0, expChunk) // exponentials; a stack array would escape through the kernel set
	defer putPack(pk)
	buf := pk.scratch
	for _, g := range segs {
		L := g.Len
		base := g.Start * c3
		for h := 0; h < nh; h++ {
			A := att[off+h*L*L : off+(h+1)*L*L]
			q := qkv[base+h*hs:]
			k := qkv[base+c+h*hs:]
			v := qkv[base+2*c+h*hs:]
			o := out[g.Start*c+h*hs:]
			for r0 := 0; r0 < L; r0 += attnBlock {
				r1 := min(r0+attnBlock, L)
				gemmNT(A[r0*L:], L, q[r0*c3:], c3, k, c3, r1-r0, hs, r1, false)
				for t := r0; t < r1; t++ {
					softmaxRow(A[t*L:t*L+L], t, scale, buf)
				}
				gemmNN(o[r0*c:], c, A[r0*L:], L, v, c3, r1-r0, r1, hs, false)
			}
		}
		off += nh * L * L
	}
}

// softmaxRow turns row[:t+1] (raw scores) into softmax(scale·row) and zeroes
// the masked rest of the row; buf (expChunk values) is scratch. Its loops
// take four elements per pass (see maxSum); softmaxRowNaive is its
// reference.
func softmaxRow(row []float32, t int, scale float32, buf []float32) {
	live := row[:t+1]
	maxv := scaleMax(live, scale)
	var sum float32
	for lo := 0; lo < len(live); lo += expChunk {
		part := live[lo:min(lo+expChunk, len(live))]
		e := buf[:len(part)]
		expfs(e, part, maxv)
		sum = copySum(part, e, sum)
	}
	scaleTo(live, live, 1/sum)
	clear(row[t+1:])
}

// scaleMax multiplies x by a in place and returns the largest product (−∞
// for an empty x; NaNs are passed over).
//
//go:nosplit
func scaleMax(x []float32, a float32) float32 {
	maxv := float32(math.Inf(-1))
	j := 0
	for ; j+4 <= len(x); j += 4 {
		q := x[j : j+4 : j+4]
		s0, s1, s2, s3 := q[0]*a, q[1]*a, q[2]*a, q[3]*a
		q[0], q[1], q[2], q[3] = s0, s1, s2, s3
		maxv = above(above(above(above(maxv, s0), s1), s2), s3)
	}
	for ; j < len(x); j++ {
		s := x[j] * a
		x[j] = s
		maxv = above(maxv, s)
	}
	return maxv
}

// copySum copies src into dst and returns sum plus the elements of src,
// added in order.
//
//go:nosplit
func copySum(dst, src []float32, sum float32) float32 {
	dst = dst[:len(src)]
	j := 0
	for ; j+4 <= len(src); j += 4 {
		q, d := src[j:j+4:j+4], dst[j:j+4:j+4]
		x0, x1, x2, x3 := q[0], q[1], q[2], q[3]
		d[0], d[1], d[2], d[3] = x0, x1, x2, x3
		sum += x0
		sum += x1
		sum += x2
		sum += x3
	}
	for ; j < len(src); j++ {
		dst[j] = src[j]
		sum += src[j]
	}
	return sum
}

// softmaxRowNaive is softmaxRow's reference loop, one expf per element.
func softmaxRowNaive(row []float32, t int, scale float32) {
	live := row[:t+1]
	maxv := float32(math.Inf(-1))
	for u, s := range live {
		s *= scale
		live[u] = s
		if s > maxv {
			maxv = s
		}
	}
	var sum float32
	for u, s := range live {
		e := expf(s - maxv)
		live[u] = e
		sum += e
	}
	inv := 1 / sum
	for u := range live {
		live[u] *= inv
	}
	clear(row[t+1:])
}

// AttentionBackward adds the gradient of Attention with respect to qkv into
// dqkv (n, 3c), given dout (n, c), the forward's qkv and att. scratch must hold
// AttentionScratchSize(segs) values.
//
//	datt[u] = dout_t·v_u;  dpre[u] = att[u]·(datt[u] − Σ_w att[w]·datt[w]);
//	dq_t += scale·Σ_u dpre[u]·k_u;  dk_u += scale·dpre[u]·q_t;  dv_u += att[u]·dout_t
//
// Each sum runs in the order of the causal loops (u ascending for dq, t
// ascending for dk and dv); with dqkv zero on entry, the results equal the
// loops bit for bit.
func AttentionBackward(dqkv, dout, qkv, att, scratch []float32, segs []Segment, c, nh int) {
	hs := c / nh
	scale := float32(1 / math.Sqrt(float64(hs)))
	c3 := 3 * c
	off := 0
	for _, g := range segs {
		L := g.Len
		base := g.Start * c3
		D := scratch[:L*L]
		for h := 0; h < nh; h++ {
			A := att[off+h*L*L : off+(h+1)*L*L]
			do := dout[g.Start*c+h*hs:]
			q, k, v := qkv[base+h*hs:], qkv[base+c+h*hs:], qkv[base+2*c+h*hs:]
			dq, dk, dv := dqkv[base+h*hs:], dqkv[base+c+h*hs:], dqkv[base+2*c+h*hs:]
			for r0 := 0; r0 < L; r0 += attnBlock {
				r1 := min(r0+attnBlock, L)
				gemmNT(D[r0*L:], L, do[r0*c:], c, v, c3, r1-r0, hs, r1, false)
				for t := r0; t < r1; t++ {
					drow := D[t*L : t*L+r1]
					softmaxGradRow(drow[:t+1], A[t*L:t*L+t+1], scale)
					clear(drow[t+1:])
				}
				gemmNN(dq[r0*c3:], c3, D[r0*L:], L, k, c3, r1-r0, r1, hs, true)
			}
			for u0 := 0; u0 < L; u0 += attnBlock {
				u1 := min(u0+attnBlock, L)
				gemmTN(dv[u0*c3:], c3, A[u0*L+u0:], L, do[u0*c:], c, u1-u0, L-u0, hs, true)
				gemmTN(dk[u0*c3:], c3, D[u0*L+u0:], L, q[u0*c3:], c3, u1-u0, L-u0, hs, true)
			}
		}
		off += nh * L * L
	}
}

// softmaxGradRow turns d (the gradient with respect to a softmax row p)
// into scale times the gradient with respect to the row's scores:
//
//	d[u] = p[u]·(d[u] − Σ_w p[w]·d[w])·scale
//
// four elements per pass, the sum in order.
//
//go:nosplit
func softmaxGradRow(d, p []float32, scale float32) {
	d = d[:len(p)]
	var dot float32
	j := 0
	for ; j+4 <= len(p); j += 4 {
		q, g := p[j:j+4:j+4], d[j:j+4:j+4]
		dot += q[0] * g[0]
		dot += q[1] * g[1]
		dot += q[2] * g[2]
		dot += q[3] * g[3]
	}
	for ; j < len(p); j++ {
		dot += p[j] * d[j]
	}
	for j = 0; j+4 <= len(p); j += 4 {
		q, g := p[j:j+4:j+4], d[j:j+4:j+4]
		g[0], g[1], g[2], g[3] = q[0]*(g[0]-dot)*scale, q[1]*(g[1]-dot)*scale, q[2]*(g[2]-dot)*scale, q[3]*(g[3]-dot)*scale
	}
	for ; j < len(p); j++ {
		d[j] = p[j] * (d[j] - dot) * scale
	}
}

// AttentionNaive is the reference loop of Attention: the causal sums over
// u ≤ t only, one (head, token) at a time.
func AttentionNaive(out, att, qkv []float32, segs []Segment, c, nh int) {
	hs := c / nh
	scale := float32(1 / math.Sqrt(float64(hs)))
	c3 := 3 * c
	off := 0
	for _, g := range segs {
		L := g.Len
		for h := 0; h < nh; h++ {
			for t := 0; t < L; t++ {
				q := qkv[(g.Start+t)*c3+h*hs : (g.Start+t)*c3+h*hs+hs]
				row := att[off+(h*L+t)*L : off+(h*L+t)*L+L]
				for u := 0; u <= t; u++ {
					k := qkv[(g.Start+u)*c3+c+h*hs : (g.Start+u)*c3+c+h*hs+hs]
					var s float32
					for i, qv := range q {
						s += qv * k[i]
					}
					row[u] = s
				}
				softmaxRowNaive(row, t, scale)
				o := out[(g.Start+t)*c+h*hs : (g.Start+t)*c+h*hs+hs]
				clear(o)
				for u := 0; u <= t; u++ {
					v := qkv[(g.Start+u)*c3+2*c+h*hs : (g.Start+u)*c3+2*c+h*hs+hs]
					p := row[u]
					for i, vv := range v {
						o[i] += p * vv
					}
				}
			}
		}
		off += nh * L * L
	}
}

// AttentionBackwardNaive is the reference loop of AttentionBackward; scratch
// must hold the longest segment's length.
func AttentionBackwardNaive(dqkv, dout, qkv, att, scratch []float32, segs []Segment, c, nh int) {
	hs := c / nh
	scale := float32(1 / math.Sqrt(float64(hs)))
	c3 := 3 * c
	off := 0
	for _, g := range segs {
		L := g.Len
		datt := scratch[:L]
		for h := 0; h < nh; h++ {
			for t := 0; t < L; t++ {
				row := att[off+(h*L+t)*L : off+(h*L+t)*L+L]
				do := dout[(g.Start+t)*c+h*hs : (g.Start+t)*c+h*hs+hs]
				var dot float32
				for u := 0; u <= t; u++ {
					base := (g.Start + u) * c3
					v := qkv[base+2*c+h*hs : base+2*c+h*hs+hs]
					dv := dqkv[base+2*c+h*hs : base+2*c+h*hs+hs]
					p := row[u]
					var s float32
					for i, gv := range do {
						s += gv * v[i]
						dv[i] += p * gv
					}
					datt[u] = s
					dot += p * s
				}
				qb := (g.Start + t) * c3
				q := qkv[qb+h*hs : qb+h*hs+hs]
				dq := dqkv[qb+h*hs : qb+h*hs+hs]
				for u := 0; u <= t; u++ {
					dp := row[u] * (datt[u] - dot) * scale
					base := (g.Start + u) * c3
					k := qkv[base+c+h*hs : base+c+h*hs+hs]
					dk := dqkv[base+c+h*hs : base+c+h*hs+hs]
					for i, kv := range k {
						dq[i] += dp * kv
						dk[i] += dp * q[i]
					}
				}
			}
		}
		off += nh * L * L
	}
}
