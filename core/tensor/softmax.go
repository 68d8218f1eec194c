package tensor

// LogSoftmaxGather turns each row of logits (m, v) into the log-probability of
// its target: logp[i] = logits[i,target[i]] − logΣ_j exp(logits[i,j]). It keeps
// lse[i] (the log-normaliser) for the backward pass and meanLogit[i], the mean
// of the row (TRL's logits/* metrics).
func LogSoftmaxGather(logp, lse, meanLogit, logits []float32, targets []int32, m, v int) {
	scratch := getPack(expChunk, 0) // exponentials; a stack array would escape through the kernel set
	defer putPack(scratch)
	buf := scratch.panel
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
		for lo := 0; lo < v; lo += expChunk {
			part := row[lo:min(lo+expChunk, v)]
			e := buf[:len(part)]
			expfs(e, part, maxv)
			for _, x := range e {
				se += float64(x)
			}
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
	scratch := getPack(expChunk, 0) // exponentials; a stack array would escape through the kernel set
	defer putPack(scratch)
	buf := scratch.panel
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
			d := drow[lo : lo+len(part)]
			for j, x := range e {
				d[j] = -gi * x // −g·softmax
			}
		}
		drow[targets[i]] += gi
	}
}
