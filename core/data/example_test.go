package data_test

import (
	"fmt"

	"dpoplayground/core/data"
)

// The hand-typing format of the paste box: blocks separated by blank lines.
// The prompt is followed by a newline; a line holding only "." is an empty
// line inside a value.
func ExampleParse() {
	ds, err := data.Parse([]byte(`prompt: What is 2 + 2?
chosen: 2 + 2 = 4
rejected: 2 + 2 = 5, trust me!

prompt: Write two lines.
chosen: One.
.
Two.
rejected: One line.
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ds.Format, len(ds.Pairs))
	for _, p := range ds.Pairs {
		fmt.Printf("line %d: %q -> %q over %q\n", p.Line, p.Prompt, p.Chosen, p.Rejected)
	}
	e := data.EncodePair(ds.Pairs[0], 64)
	fmt.Println(e.Chosen.IDs[:4], e.Chosen.PromptLen, e.Chosen.ResponseTokens())
	// Output:
	// text 2
	// line 1: "What is 2 + 2?\n" -> "2 + 2 = 4" over "2 + 2 = 5, trust me!"
	// line 5: "Write two lines.\n" -> "One.\n\nTwo." over "One line."
	// [256 87 104 97] 15 10
}

// Errors name the line and the field of every problem.
func ExampleParse_errors() {
	_, err := data.Parse([]byte(`{"prompt": "Say hi.\n", "chosen": "Hello!", "rejected": "Hello!"}
{"prompt": "Be kind.\n", "chosen": ""}
`))
	fmt.Println(err)
	// Output:
	// line 1, field "rejected": identical to "chosen"; a pair needs two different answers
	// line 2, field "chosen": must not be empty
	// line 2, field "rejected": missing
}
