package session

import (
	"encoding/json"
	"fmt"
	"strings"

	"dpoplayground/core/data"
)

// AppendPair returns the pairs text with p added at its end, written in the
// text's own format (JSONL or the hand-typing format). It refuses other
// formats, and checks that the result reads back as the old pairs then p.
func AppendPair(text string, p data.Pair) (string, error) {
	old, err := data.Parse([]byte(text))
	if err != nil {
		return "", fmt.Errorf("label: the pairs have errors; fix them before adding a labelled pair")
	}
	var out string
	switch old.Format {
	case "jsonl":
		b, err := json.Marshal(struct {
			Prompt   string `json:"prompt"`
			Chosen   string `json:"chosen"`
			Rejected string `json:"rejected"`
		}{p.Prompt, p.Chosen, p.Rejected})
		if err != nil {
			return "", err
		}
		out = strings.TrimRight(text, "\n") + "\n" + string(b) + "\n"
	case "text":
		prompt := strings.TrimSuffix(p.Prompt, "\n")
		for _, v := range []string{prompt, p.Chosen, p.Rejected} {
			if strings.ContainsAny(v, "\n\r") {
				return "", fmt.Errorf("label: a labelled answer spans lines, which the hand-typing format cannot hold; use JSONL pairs")
			}
		}
		out = strings.TrimRight(text, "\n") + "\n\nprompt: " + prompt + "\nchosen: " + p.Chosen + "\nrejected: " + p.Rejected + "\n"
	default:
		return "", fmt.Errorf("label: labelled pairs can be added to JSONL or hand-typed pairs, not to %s", old.Format)
	}
	back, err := data.Parse([]byte(out))
	n := len(old.Pairs)
	if err != nil || len(back.Pairs) != n+1 || back.Pairs[n].Prompt != p.Prompt || back.Pairs[n].Chosen != p.Chosen || back.Pairs[n].Rejected != p.Rejected {
		return "", fmt.Errorf("label: the labelled pair cannot be written into these pairs as it is")
	}
	return out, nil
}
