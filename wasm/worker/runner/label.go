package runner

// The Label panel's requests: two answers to label, and labelled pairs
// joining the run.

import "dpoplayground/wasm/worker/protocol"

func (r *Runner) label(msg protocol.Message) {
	switch m := msg.(type) {
	case protocol.LabelRequest:
		if !r.current(m, m.Run) {
			return
		}
		o, err := r.s.Label(m.Request)
		if err != nil {
			r.fail(m, m.Run, err)
			return
		}
		r.post(protocol.LabelOffer{Run: r.run, ID: m.ID, Global: r.global, LabelOffer: o})
	case protocol.AddPairs:
		if !r.current(m, m.Run) {
			return
		}
		n, err := r.s.AddPairs(m.Pairs)
		if err != nil {
			r.fail(m, m.Run, err)
			return
		}
		r.toHelpers(m)
		r.post(protocol.PairsAdded{Run: r.run, Pairs: n})
	}
}
