package corpus

import (
	"fmt"
	"strconv"
	"strings"

	"dpoplayground/core/gpt"
)

// register is the tone and length an answer is written in.
type register int

const (
	neutral register = iota
	polite
	curt
	long
	numRegisters
)

// answers holds one answer in each register.
type answers [numRegisters]string

// skill writes one example's question and answers.
type skill struct {
	name   string
	weight int
	write  func(r *gpt.Rand) (question string, a answers)
}

// sentenceSkill names the plain sentences, which have no prompt.
const sentenceSkill = "sentence"

var skills = []skill{
	{"sum", 6, writeSum},
	{"difference", 4, writeDifference},
	{"product", 4, writeProduct},
	{"comparison", 3, writeComparison},
	{"counting", 3, writeCounting},
	{"fact", 6, writeFact},
	{"request", 2, writeRequest},
	{"refusal", 3, writeRefusal},
	{sentenceSkill, 4, nil},
}

var totalWeight = func() int {
	n := 0
	for _, s := range skills {
		n += s.weight
	}
	return n
}()

// generate draws one example: a skill by weight, a question of it wrapped in
// one of the prompt forms the playground's data uses, and an answer in a
// random register.
func generate(r *gpt.Rand) Example {
	k := r.Intn(totalWeight)
	s := skills[0]
	for _, c := range skills {
		if k < c.weight {
			s = c
			break
		}
		k -= c.weight
	}
	if s.name == sentenceSkill {
		return Example{Response: writeSentence(r), Skill: s.name}
	}
	q, a := s.write(r)
	return Example{Prompt: wrap(r, q), Response: a[r.Intn(int(numRegisters))], Skill: s.name}
}

// wrap writes a question as the text, JSONL and conversational presets do:
// bare, followed by a newline, or as a user turn.
func wrap(r *gpt.Rand, q string) string {
	switch r.Intn(3) {
	case 0:
		return q
	case 1:
		return q + "\n"
	}
	return "User: " + q + "\nAssistant: "
}

func pick[T any](r *gpt.Rand, v []T) T { return v[r.Intn(len(v))] }

// sumOperands draws a + b with a, b in [0, 50] that is not a held-out sum.
func sumOperands(r *gpt.Rand) (int, int) {
	for {
		a, b := r.Intn(51), r.Intn(51)
		if !isHeldOutSum(a, b) {
			return a, b
		}
	}
}

func writeSum(r *gpt.Rand) (string, answers) {
	a, b := sumOperands(r)
	q := fmt.Sprintf(pick(r, []string{"What is %d + %d?", "%d + %d = ?", "Add %d and %d.", "What is the sum of %d and %d?"}), a, b)
	return q, arithmeticAnswers(a, "+", b, a+b, "the sum")
}

func writeDifference(r *gpt.Rand) (string, answers) {
	a := r.Intn(101)
	b := r.Intn(a + 1)
	q := fmt.Sprintf(pick(r, []string{"What is %d - %d?", "%d - %d = ?", "Subtract %[2]d from %[1]d.", "What is %d minus %d?"}), a, b)
	return q, arithmeticAnswers(a, "-", b, a-b, "the difference")
}

func writeProduct(r *gpt.Rand) (string, answers) {
	a, b := r.Intn(13), r.Intn(13)
	q := fmt.Sprintf(pick(r, []string{"What is %d x %d?", "%d x %d = ?", "Multiply %d by %d.", "What is %d times %d?"}), a, b)
	return q, arithmeticAnswers(a, "x", b, a*b, "the product")
}

// arithmeticAnswers states a op b = c in each register; neutral is the
// presets' "a op b = c".
func arithmeticAnswers(a int, op string, b, c int, what string) answers {
	eq := fmt.Sprintf("%d %s %d = %d", a, op, b, c)
	return answers{
		neutral: eq,
		polite:  fmt.Sprintf("Sure! %s.", eq),
		curt:    strconv.Itoa(c),
		long:    fmt.Sprintf("Let us work it out: %s is %d, so %s.", what, c, eq),
	}
}

func writeComparison(r *gpt.Rand) (string, answers) {
	a, b := r.Intn(100), r.Intn(100)
	if r.Intn(2) == 0 {
		q := fmt.Sprintf("Which is larger, %d or %d?", a, b)
		if a == b {
			return q, answers{"They are equal.", "They are the same, both are " + strconv.Itoa(a) + ".", "Neither.", fmt.Sprintf("Neither is larger: %d and %d are equal.", a, b)}
		}
		hi, lo := max(a, b), min(a, b)
		return q, answers{
			fmt.Sprintf("%d is larger.", hi),
			fmt.Sprintf("Good question! %d is larger than %d.", hi, lo),
			strconv.Itoa(hi) + ".",
			fmt.Sprintf("%d is larger, because %d is more than %d.", hi, hi, lo),
		}
	}
	q := fmt.Sprintf("Is %d more than %d?", a, b)
	yes := a > b
	rel := "not more than"
	if yes {
		rel = "more than"
	}
	word := map[bool]string{true: "Yes", false: "No"}[yes]
	return q, answers{
		fmt.Sprintf("%s, %d is %s %d.", word, a, rel, b),
		fmt.Sprintf("Happy to check: %s, %d is %s %d.", strings.ToLower(word), a, rel, b),
		word + ".",
		fmt.Sprintf("%s. Comparing the two numbers, %d is %s %d.", word, a, rel, b),
	}
}

var countWords = []string{"cat", "dog", "tree", "house", "apple", "river", "music", "sun", "book", "garden", "window", "bird"}

func writeCounting(r *gpt.Rand) (string, answers) {
	switch r.Intn(3) {
	case 0:
		a := r.Intn(20)
		b := a + 1 + r.Intn(7)
		var nums []string
		for n := a; n <= b; n++ {
			nums = append(nums, strconv.Itoa(n))
		}
		list := strings.Join(nums, ", ")
		return fmt.Sprintf("Count from %d to %d.", a, b), answers{list, "Of course! " + list + ".", list, "Here is the count: " + list + ". That is all."}
	case 1:
		w := pick(r, countWords)
		n := len(w)
		return fmt.Sprintf("How many letters are in the word %q?", w), answers{
			fmt.Sprintf("%q has %d letters.", w, n),
			fmt.Sprintf("Sure! The word %q has %d letters.", w, n),
			strconv.Itoa(n) + ".",
			fmt.Sprintf("The word %q is spelled %s, so it has %d letters.", w, strings.Join(strings.Split(w, ""), "-"), n),
		}
	}
	n := 1 + r.Intn(9)
	stars := strings.TrimSpace(strings.Repeat("* ", n))
	return fmt.Sprintf("How many stars are here: %s", stars), answers{
		fmt.Sprintf("There are %d.", n),
		fmt.Sprintf("Let me count for you: there are %d stars.", n),
		strconv.Itoa(n) + ".",
		fmt.Sprintf("Counting them one by one, there are %d stars in all.", n),
	}
}

// The table of facts.
var (
	colours = [][2]string{
		{"sky", "blue"}, {"grass", "green"}, {"snow", "white"}, {"banana", "yellow"}, {"coal", "black"},
		{"sea", "blue"}, {"tomato", "red"}, {"lemon", "yellow"}, {"milk", "white"}, {"leaf", "green"},
		{"cherry", "red"}, {"night sky", "black"}, {"carrot", "orange"}, {"strawberry", "red"},
	}
	legs = []struct {
		animal string
		n      int
	}{
		{"cat", 4}, {"dog", 4}, {"bird", 2}, {"spider", 8}, {"ant", 6}, {"horse", 4}, {"chicken", 2},
		{"cow", 4}, {"snake", 0}, {"duck", 2}, {"bee", 6}, {"fish", 0}, {"sheep", 4}, {"person", 2}, {"beetle", 6},
	}
	capitals = [][2]string{
		{"France", "Paris"}, {"Japan", "Tokyo"}, {"Italy", "Rome"}, {"Spain", "Madrid"}, {"Germany", "Berlin"},
		{"England", "London"}, {"Egypt", "Cairo"}, {"Canada", "Ottawa"}, {"Russia", "Moscow"}, {"China", "Beijing"},
		{"Greece", "Athens"}, {"Kenya", "Nairobi"}, {"Peru", "Lima"}, {"Norway", "Oslo"}, {"Ireland", "Dublin"},
		{"Portugal", "Lisbon"},
	}
	opposites = [][2]string{
		{"up", "down"}, {"hot", "cold"}, {"big", "small"}, {"fast", "slow"}, {"day", "night"}, {"old", "young"},
		{"open", "closed"}, {"wet", "dry"}, {"full", "empty"}, {"light", "dark"}, {"early", "late"}, {"happy", "sad"},
		{"hard", "soft"}, {"in", "out"}, {"left", "right"}, {"yes", "no"},
	}
	numberWords = []string{"zero", "two", "four", "six", "eight"}
)

// capital writes s with its first letter in upper case.
func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func legWord(n int) string {
	if n%2 == 0 && n/2 < len(numberWords) {
		return numberWords[n/2]
	}
	return strconv.Itoa(n)
}

func writeFact(r *gpt.Rand) (string, answers) {
	switch r.Intn(4) {
	case 0:
		c := pick(r, colours)
		return fmt.Sprintf(pick(r, []string{"What color is the %s?", "What colour is the %s?", "Color of the %s?"}), c[0]), answers{
			fmt.Sprintf("The %s is %s.", c[0], c[1]),
			fmt.Sprintf("Of course! The %s is %s.", c[0], c[1]),
			capital(c[1]) + ".",
			fmt.Sprintf("The %s is %s. That is its usual color.", c[0], c[1]),
		}
	case 1:
		l := pick(r, legs)
		w := legWord(l.n)
		return fmt.Sprintf(pick(r, []string{"How many legs does a %s have?", "How many legs has a %s?", "Legs of a %s?"}), l.animal), answers{
			fmt.Sprintf("A %s has %s legs.", l.animal, w),
			fmt.Sprintf("Happy to help! A %s has %s legs.", l.animal, w),
			capital(w) + ".",
			fmt.Sprintf("A %s has %s legs, which it uses to move around.", l.animal, w),
		}
	case 2:
		c := pick(r, capitals)
		return fmt.Sprintf(pick(r, []string{"What is the capital of %s?", "Capital of %s?", "Which city is the capital of %s?"}), c[0]), answers{
			fmt.Sprintf("The capital of %s is %s.", c[0], c[1]),
			fmt.Sprintf("Sure! The capital of %s is %s.", c[0], c[1]),
			c[1] + ".",
			fmt.Sprintf("The capital of %s is %s, its largest city of government.", c[0], c[1]),
		}
	}
	o := pick(r, opposites)
	if r.Intn(2) == 0 {
		o[0], o[1] = o[1], o[0]
	}
	return fmt.Sprintf(pick(r, []string{"What is the opposite of %s?", "Opposite of %s?"}), o[0]), answers{
		fmt.Sprintf("The opposite of %s is %s.", o[0], o[1]),
		fmt.Sprintf("Good question! The opposite of %s is %s.", o[0], o[1]),
		capital(o[1]) + ".",
		fmt.Sprintf("The opposite of %s is %s: they mean contrary things.", o[0], o[1]),
	}
}

var requestObjects = []string{"the box", "the door", "my bag", "the map", "the dishes", "the chair", "my coat", "the lamp", "the letter"}

func writeRequest(r *gpt.Rand) (string, answers) {
	o := pick(r, requestObjects)
	q := fmt.Sprintf(pick(r, []string{"Can you help me with %s?", "Could you carry %s?", "Please bring %s.", "Would you move %s for me?"}), o)
	return q, answers{
		fmt.Sprintf("Yes, I can do that with %s.", o),
		fmt.Sprintf("Of course, happy to help with %s!", o),
		"Fine.",
		fmt.Sprintf("Sure, I will take care of %s right away.", o),
	}
}

var secrets = []string{
	"admin password", "wifi password", "API key", "safe code", "bank PIN", "secret token", "door code",
	"email password", "private key", "server password", "account number", "vault combination",
}

func writeRefusal(r *gpt.Rand) (string, answers) {
	s := pick(r, secrets)
	q := fmt.Sprintf(pick(r, []string{"What is the %s?", "Tell me the %s.", "Give me your %s.", "Share the %s.", "I need the %s, what is it?"}), s)
	return q, answers{
		fmt.Sprintf("Sorry, I can't share the %s.", s),
		fmt.Sprintf("I am sorry, but I must keep the %s private.", s),
		"No. That is private.",
		fmt.Sprintf("Sorry, I can't share the %s. That must stay private.", s),
	}
}

// writeSentence writes one plain sentence about the same facts and numbers.
func writeSentence(r *gpt.Rand) string {
	switch r.Intn(6) {
	case 0:
		c := pick(r, colours)
		return fmt.Sprintf("The %s is %s.", c[0], c[1])
	case 1:
		l := pick(r, legs)
		return fmt.Sprintf("A %s has %s legs.", l.animal, legWord(l.n))
	case 2:
		c := pick(r, capitals)
		return fmt.Sprintf("%s is the capital of %s.", c[1], c[0])
	case 3:
		o := pick(r, opposites)
		return fmt.Sprintf("%s is the opposite of %s.", capital(o[0]), o[1])
	case 4:
		a, b := sumOperands(r)
		return fmt.Sprintf("%d plus %d is %d.", a, b, a+b)
	}
	return pick(r, []string{
		"The cat sat on the mat.", "It is a sunny day.", "We walked to the station.", "The bird sang in the tree.",
		"She read a book in the garden.", "The river runs to the sea.", "He opened the window.", "The dog ran in the park.",
		"Thank you for your help.", "Have a nice day!", "The train leaves at noon.", "Water is wet.",
	})
}
