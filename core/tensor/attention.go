package tensor

import (
	"math"

	"dpoplayground/core/pmath"
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

// Attention is causal multi-head self-attention over packed segments.
// qkv is (n, 3c): per token q, k, v in that order, each split into nh heads of
// c/nh contiguous values. out is (n, c). att (AttentionSize) receives the
// softmax probabilities that the backward pass needs.
//
//	att[h,t,u] = softmax_u≤t( q_t·k_u / sqrt(c/nh) ),  out[t,h] = Σ_u att[h,t,u]·v_u
func Attention(out, att, qkv []float32, segs []Segment, c, nh int) {
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
				maxv := float32(math.Inf(-1))
				for u := 0; u <= t; u++ {
					k := qkv[(g.Start+u)*c3+c+h*hs : (g.Start+u)*c3+c+h*hs+hs]
					var s float32
					for i, qv := range q {
						s += qv * k[i]
					}
					s *= scale
					row[u] = s
					if s > maxv {
						maxv = s
					}
				}
				var sum float32
				for u := 0; u <= t; u++ {
					e := pmath.Exp32(row[u] - maxv)
					row[u] = e
					sum += e
				}
				inv := 1 / sum
				for u := 0; u <= t; u++ {
					row[u] *= inv
				}
				clear(row[t+1:])
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

// AttentionBackward adds the gradient of Attention with respect to qkv into
// dqkv (n, 3c), given dout (n, c), the forward's qkv and att. scratch must hold
// the longest segment's length.
//
//	datt[u] = dout_t·v_u;  dpre[u] = att[u]·(datt[u] − Σ_w att[w]·datt[w]);
//	dq_t += scale·Σ_u dpre[u]·k_u;  dk_u += scale·dpre[u]·q_t;  dv_u += att[u]·dout_t
func AttentionBackward(dqkv, dout, qkv, att, scratch []float32, segs []Segment, c, nh int) {
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
					if dp == 0 {
						continue
					}
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

// LogSoftmaxGather turns each row of logits (m, v) into the log-probability of
// its target: logp[i] = logits[i,target[i]] − logΣ_j exp(logits[i,j]). It keeps
// lse[i] (the log-normaliser) for the backward pass and meanLogit[i], the mean
// of the row (TRL's logits/* metrics).
func LogSoftmaxGather(logp, lse, meanLogit, logits []float32, targets []int32, m, v int) {
	for i := 0; i < m; i++ {
		row := logits[i*v : i*v+v]
		maxv := row[0]
		var sum float32
		for _, x := range row {
			if x > maxv {
				maxv = x
			}
			sum += x
		}
		var se float64
		for _, x := range row {
			se += pmath.Exp(float64(x - maxv))
		}
		l := maxv + float32(pmath.Log(se))
		lse[i] = l
		logp[i] = row[targets[i]] - l
		meanLogit[i] = sum / float32(v)
	}
}

// LogSoftmaxGatherBackward writes the gradient of Σ_i g[i]·logp[i] with
// respect to the logits into dlogits (m, v); dlogits may alias logits.
//
//	dlogits[i,j] = g[i]·([j = target[i]] − softmax(logits[i])_j)
func LogSoftmaxGatherBackward(dlogits, logits, lse []float32, targets []int32, g []float32, m, v int) {
	for i := 0; i < m; i++ {
		row := logits[i*v : i*v+v]
		drow := dlogits[i*v : i*v+v]
		gi, l := g[i], lse[i]
		if gi == 0 {
			clear(drow)
			continue
		}
		for j, x := range row {
			drow[j] = -gi * pmath.Exp32(x-l)
		}
		drow[targets[i]] += gi
	}
}
