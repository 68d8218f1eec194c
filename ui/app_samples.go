package ui

// App's actions for the Samples panel: the policy's own answers to a prompt.

import (
	"fmt"
	"strings"

	"dpoplayground/core/session"
	"dpoplayground/wasm/worker/protocol"
)

// SamplePrompt is the prompt the samples are for.
func (a *App) SamplePrompt() string {
	if a.Sample.Prompt != "" {
		return a.typedPrompt(a.Sample.Prompt)
	}
	if a.Selected >= 0 && a.Selected < len(a.Pairs) {
		return a.Pairs[a.Selected].Prompt
	}
	return ""
}

// typedPrompt is a typed prompt as the model reads it: prompts of the
// hand-typing format end with a newline, the separator the model learnt,
// so a typed prompt gets one too.
func (a *App) typedPrompt(p string) string {
	if len(a.Pairs) > 0 && strings.HasSuffix(a.Pairs[0].Prompt, "\n") && !strings.HasSuffix(p, "\n") {
		p += "\n"
	}
	return p
}

// RequestSamples asks the worker for fresh samples.
func (a *App) RequestSamples() {
	r := a.Live
	if r == nil || r.Info == nil || a.Hidden("samples") || a.Sample.pending != 0 {
		return
	}
	prompt := a.SamplePrompt()
	if prompt == "" {
		return
	}
	a.Sample.nextID++
	req := session.SampleRequest{Prompt: prompt}
	req.Temperature, req.Seed, req.MaxTokens = a.Sample.Temperature, a.Sample.Seed, 48
	a.Host.Post(protocol.Sample{Run: r.ID, ID: a.Sample.nextID, Request: req})
	a.Sample.pending, a.Sample.at = a.Sample.nextID, a.Host.Now()
}

// SetSamplePrompt takes the typed prompt.
func (a *App) SetSamplePrompt(p string) { a.Sample.Prompt = p }

// SetTemperature takes the temperature slider's value (0 is greedy).
func (a *App) SetTemperature(text string) {
	var t float64
	if _, err := fmt.Sscan(text, &t); err == nil && t >= 0 && t <= 2 {
		a.Sample.Temperature = t
	}
}

// SetSampleSeed takes the sampling seed.
func (a *App) SetSampleSeed(text string) {
	var s uint64
	if _, err := fmt.Sscan(text, &s); err == nil {
		a.Sample.Seed = s
	}
}

// ToggleAutoSample turns the refresh during training on or off.
func (a *App) ToggleAutoSample(on bool) { a.Sample.Auto = on }

// SampleAgain asks for samples now, even if an answer is still on its way
// (the newer request wins).
func (a *App) SampleAgain() {
	a.Sample.pending = 0
	a.RequestSamples()
}
