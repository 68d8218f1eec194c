package tensor

// LogSoftmaxGather turns each row of logits (m, v) into the log-probability of
// its target: logp[i] = logits[i,target[i]] − logΣ_j exp(logits[i,j]). It keeps
// lse[i] (the log-normaliser) for the backward pass and meanLogit[i], the mean
// of the row (TRL's logits/* metrics).
func LogSoftmaxGather(logp, lse, meanLogit, logits []float32, targets []int32, m, v int) {
	pk := getPack(0, 0, expChunk) // exponentials; a stack array would escape through the kernel set
	defer putPack(pk)
	buf := pk.scratch
	for i := 0; i < m; i++ {
		row := logits[i*v : i*v+v]
		maxv, sum := maxSum(row)
		var se float64
		for lo := 0; lo < v; lo += expChunk {
			part := row[lo:min(lo+expChunk, v)]
			e := buf[:len(part)]
			expfs(e, part, maxv)
			se = sum64(se, e)
		}
		l := maxv + float32(log64(se))
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
	pk := getPack(0, 0, expChunk) // exponentials; a stack array would escape through the kernel set
	defer putPack(pk)
	buf := pk.scratch
	for i := 0; i < m; i++ {
		row := logits[i*v : i*v+v]
		drow := dlogits[i*v : i*v+v]
		gi, l := g[i], lse[i]
		if gi == 0 {
			clear(drow)
			continue
		}
		for lo := 0; lo < v; lo += expChunk {
			part := row[lo:min(lo+expChunk, v)]
			e := buf[:len(part)]
			expfs(e, part, l)
			scaleTo(drow[lo:lo+len(part)], e, -gi) // −g·softmax
		}
		drow[targets[i]] += gi
	}
}

// LogSoftmaxGatherNaive is the reference loop of LogSoftmaxGather, one
// expf per element.
func LogSoftmaxGatherNaive(logp, lse, meanLogit, logits []float32, targets []int32, m, v int) {
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
			se += float64(expf(x - maxv))
		}
		l := maxv + float32(log64(se))
		lse[i] = l
		logp[i] = row[targets[i]] - l
		meanLogit[i] = sum / float32(v)
	}
}

// LogSoftmaxGatherBackwardNaive is the reference loop of
// LogSoftmaxGatherBackward.
func LogSoftmaxGatherBackwardNaive(dlogits, logits, lse []float32, targets []int32, g []float32, m, v int) {
	for i := 0; i < m; i++ {
		row := logits[i*v : i*v+v]
		drow := dlogits[i*v : i*v+v]
		gi, l := g[i], lse[i]
		if gi == 0 {
			clear(drow)
			continue
		}
		for j, x := range row {
			drow[j] = -gi * expf(x-l)
		}
		drow[targets[i]] += gi
	}
}

// The loops below take four elements per pass: a quarter of the loop
// overhead, which Go's WebAssembly pays on every iteration (a jump through
// the function's dispatch table); sums and comparisons run in element order,
// as a plain loop's do.

// maxSum returns the largest element of row (the first of equals; NaNs are
// passed over) and the float32 sum of its elements in order. row is not empty.
//
//go:nosplit
func maxSum(row []float32) (maxv, sum float32) {
	maxv = row[0]
	j := 0
	for ; j+4 <= len(row); j += 4 {
		q := row[j : j+4 : j+4]
		x0, x1, x2, x3 := q[0], q[1], q[2], q[3]
		maxv = above(above(above(above(maxv, x0), x1), x2), x3)
		sum += x0
		sum += x1
		sum += x2
		sum += x3
	}
	for _, x := range row[j:] {
		maxv = above(maxv, x)
		sum += x
	}
	return maxv, sum
}

// above is the running maximum of the fast loops: x when x > m, else m, so
// a NaN x is passed over and the first of equal values stays.
func above(m, x float32) float32 {
	if x > m {
		return x
	}
	return m
}

// sum64 returns s plus the elements of e, added in order in float64.
//
//go:nosplit
func sum64(s float64, e []float32) float64 {
	j := 0
	for ; j+4 <= len(e); j += 4 {
		q := e[j : j+4 : j+4]
		s += float64(q[0])
		s += float64(q[1])
		s += float64(q[2])
		s += float64(q[3])
	}
	for _, x := range e[j:] {
		s += float64(x)
	}
	return s
}

// scaleTo sets dst[i] = a·src[i].
//
//go:nosplit
func scaleTo(dst, src []float32, a float32) {
	dst = dst[:len(src)]
	j := 0
	for ; j+4 <= len(src); j += 4 {
		q, d := src[j:j+4:j+4], dst[j:j+4:j+4]
		d[0], d[1], d[2], d[3] = a*q[0], a*q[1], a*q[2], a*q[3]
	}
	for ; j < len(src); j++ {
		dst[j] = a * src[j]
	}
}
