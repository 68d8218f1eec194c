// Command loops exercises the control flow that reloop rewrites: loops
// nested, labelled, broken and continued, goto, switches, panics recovered
// inside loops, goroutines that block inside loops (so Go unwinds and
// later resumes a function in the middle), closures and recursion. It
// prints a line per part; reloop's test runs it natively, as Go compiled
// it to WebAssembly and as reloop rewrote that, and compares the outputs.
package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

//go:noinline
func tile(a0, a1 []float32, panel [][4]float32) (s [8]float32) {
	panel = panel[:len(a0)]
	for p, x0 := range a0 {
		q := &panel[p]
		x1 := a1[p]
		for j := range 4 {
			s[j] += x0 * q[j]
			s[4+j] += x1 * q[j]
		}
	}
	return s
}

//go:noinline
func labelled(n int) (count int) {
outer:
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			switch {
			case j > i:
				continue outer
			case (i*j)%7 == 3:
				break outer
			case (i+j)%3 == 0:
				continue
			}
			count += i ^ j
		}
	}
	return count
}

//go:noinline
func gotos(n int) int {
	i, s := 0, 0
loop:
	if i >= n {
		goto done
	}
	if i%5 == 4 {
		i += 2
		goto loop
	}
	s += i * i
	i++
	goto loop
done:
	return s
}

//go:noinline
func collatz(limit int) (best, steps int) {
	for n := 1; n < limit; n++ {
		c, k := n, 0
		for c != 1 {
			if c%2 == 0 {
				c /= 2
			} else {
				c = 3*c + 1
			}
			k++
		}
		if k > steps {
			best, steps = n, k
		}
	}
	return best, steps
}

// recovered indexes past the end of xs on purpose and recovers, inside a
// loop, so the loop goes on in a frame that panicked.
//
//go:noinline
func recovered(xs []int) (sum, panics int) {
	for i := 0; i < len(xs)+3; i++ {
		func() {
			defer func() {
				if recover() != nil {
					panics++
				}
			}()
			sum += xs[i] * (i + 1)
		}()
	}
	return sum, panics
}

// pipeline sends and receives on unbuffered channels inside loops: each
// send blocks, so the goroutine is unwound out of these functions and
// resumed in their middle.
//
//go:noinline
func produce(n int, out chan<- int) {
	for i := 0; i < n; i++ {
		if i%3 == 0 {
			continue
		}
		out <- i * i
	}
	close(out)
}

//go:noinline
func consume(in <-chan int) (sum, count int) {
	for v := range in {
		for v > 10 {
			v /= 2
		}
		sum += v
		count++
	}
	return sum, count
}

//go:noinline
func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

//go:noinline
func words(s string) string {
	counts := map[string]int{}
	for _, w := range strings.Fields(s) {
		counts[strings.ToLower(strings.Trim(w, ".,!"))]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%d ", k, counts[k])
	}
	return b.String()
}

//go:noinline
func softmax(xs []float64) []float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = max(m, x)
	}
	out := make([]float64, len(xs))
	var z float64
	for i, x := range xs {
		out[i] = math.Exp(x - m)
		z += out[i]
	}
	for i := range out {
		out[i] /= z
	}
	return out
}

func main() {
	a0 := make([]float32, 37)
	a1 := make([]float32, 37)
	panel := make([][4]float32, 37)
	for i := range a0 {
		a0[i] = float32(i%7) * 0.25
		a1[i] = float32(i%5) * 0.5
		panel[i] = [4]float32{float32(i), 1, float32(-i), 0.5}
	}
	fmt.Println("tile", tile(a0, a1, panel))
	fmt.Println("labelled", labelled(40))
	fmt.Println("gotos", gotos(100))
	fmt.Println("collatz", fmt.Sprint(collatz(3000)))
	fmt.Println("recovered", fmt.Sprint(recovered([]int{3, 1, 4, 1, 5, 9, 2, 6})))
	ch := make(chan int)
	go produce(50, ch)
	fmt.Println("pipeline", fmt.Sprint(consume(ch)))
	fmt.Println("fib", fib(22))
	fmt.Println("words", words("The cat, the hat. THE bat! A cat"))
	fmt.Printf("softmax %.6f\n", softmax([]float64{1, 2, 3, -1, 0.5}))
}
