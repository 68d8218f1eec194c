// Package protocol defines the messages between the page and the training
// Web Worker. Each message travels through postMessage as a plain object
// whose "type" field names it; Encode and Decode convert between that
// object's JSON text and the Go types, so both ends share one definition and
// every message is tested natively.
//
// The page numbers its runs: every request about a run carries the run's
// number and every answer repeats it, so the page can drop answers that
// belong to a run it has already reset. Model weights ([]byte fields) are
// base64 in the JSON text and gradients ([]float32 fields) arrays of
// numbers; in the browser both travel as transferred ArrayBuffers instead
// (see ToJS and FromJS).
//
// A run may train on several workers (data parallel): the worker the page
// talks to, the lead, starts helpers running the same program and speaks
// to them with the same Configure and Import messages, plus three of their
// own: ShardRequest (compute shard j of k of the next step's gradient),
// ShardGrad (the helper's answer) and ApplyGrad (the summed gradient every
// worker applies).
package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"dpoplayground/core/data"
	"dpoplayground/core/dpo"
	"dpoplayground/core/kto"
	"dpoplayground/core/online"
	"dpoplayground/core/reward"
	"dpoplayground/core/session"
	"dpoplayground/core/train"
)

// Message is one message of the protocol.
type Message interface {
	// MessageType is the value of the "type" field.
	MessageType() string
}

// Page to worker.

// Hello is the page's first message; the worker answers with Ready.
type Hello struct{}

// Configure (re)starts run Run from Settings, stopping any run in progress;
// the worker answers Configured, or Error naming the setting. Workers is
// how many workers should share each step (0 or 1: the lead alone); it is
// not one of the Settings, because it changes how fast a run goes, not
// its numbers (beyond float32 rounding), and suits one machine, not a link.
type Configure struct {
	Run      int              `json:"run"`
	Settings session.Settings `json:"settings"`
	Workers  int              `json:"workers,omitempty"`
}

// Train runs the configured run continuously, one Metrics message per step,
// until Pause or its last step (then Done).
type Train struct {
	Run int `json:"run"`
}

// Pause stops continuous training after the current step; the worker
// answers Paused and an Evaluation.
type Pause struct {
	Run int `json:"run"`
}

// Step runs N steps (pausing first if training), then answers Paused or Done.
type Step struct {
	Run int `json:"run"`
	N   int `json:"n"`
}

// Sample asks for continuations of a prompt from the reference and the
// policy; ID comes back in Samples so the page keeps only the newest.
type Sample struct {
	Run     int                   `json:"run"`
	ID      int                   `json:"id"`
	Request session.SampleRequest `json:"request"`
}

// HeldOut asks for both models' greedy answers to prompts outside the pairs
// (session.Session.HeldOut); ID comes back in HeldOutAnswers.
type HeldOut struct {
	Run     int                    `json:"run"`
	ID      int                    `json:"id"`
	Request session.HeldOutRequest `json:"request"`
}

// PairRequest asks for one pair's per-byte log-probs (PairDetail).
type PairRequest struct {
	Run   int `json:"run"`
	Index int `json:"index"`
}

// Evaluate asks for every pair's rewards under the current policy.
type Evaluate struct {
	Run int `json:"run"`
}

// Export asks for the policy's, the reference's or the judge's reward
// model's weights ("policy", "reference" or "reward") as config.json and
// model.safetensors.
type Export struct {
	Run   int    `json:"run"`
	Which string `json:"which"`
}

// Import hands the worker a model to use as the reference ("reference") or
// the initial policy ("policy") of the next Configure.
type Import struct {
	Role    string `json:"role"`
	Name    string `json:"name"`   // the weights file's name, shown back
	Config  string `json:"config"` // config.json
	Weights []byte `json:"weights"`
}

// ClearImports makes the worker forget imported weights.
type ClearImports struct{}

// RaceConfigure (re)starts run Run as one lane of a race (or the RLHF
// method alone): Method (session.MethodDPO or session.MethodRLHF) of
// Settings, trained by this worker with Train, Step and Pause like a DPO
// run. The worker answers RaceConfigured, then a RaceStep per step.
//
// Share is the fraction of a core the lane may use while training
// continuously (0 or 1: all of it): after a step of d it rests
// d·(1/Share − 1). On a device with fewer cores than lanes plus the page,
// the lanes share what the page leaves, so that neither the page's
// thread nor the other lane waits for the CPU (and each lane's seconds
// count its own work, not the other's).
type RaceConfigure struct {
	Run      int              `json:"run"`
	Method   string           `json:"method"`
	Settings session.Settings `json:"settings"`
	Share    float64          `json:"share,omitempty"`
}

// RaceJudge carries the race's reward model (config.json and
// model.safetensors): the RLHF lane's worker sends it to the page when its
// reward phase ends, and the page hands it to the DPO lane's worker, which
// scores its policy's samples with it (answering with RaceScores).
type RaceJudge struct {
	Run     int    `json:"run"`
	Config  string `json:"config"`
	Weights []byte `json:"weights"`
}

// LabelRequest asks for two answers of the current policy to a prompt, to
// be labelled (session.Session.Label); ID comes back in LabelOffer.
type LabelRequest struct {
	Run     int                  `json:"run"`
	ID      int                  `json:"id"`
	Request session.LabelRequest `json:"request"`
}

// AddPairs adds labelled pairs to run Run: they join its batches from the
// next step on. The worker answers PairsAdded; a lead passes them on to its
// helpers, so every worker's dataset stays the same.
type AddPairs struct {
	Run   int         `json:"run"`
	Pairs []data.Pair `json:"pairs"`
}

// Worker to page.

// Ready says the worker's Go runtime is up and handling messages.
type Ready struct {
	// GoVersion is runtime.Version() of the worker, e.g. "go1.26.8".
	GoVersion string `json:"goVersion"`
	// SIMD says the worker computes with the WebAssembly SIMD128 kernels.
	SIMD bool `json:"simd,omitempty"`
}

// Configured answers Configure. Workers is how many workers share each
// step: the number asked for, at most the batch's pair count.
type Configured struct {
	Run int `json:"run"`
	session.Configured
	Workers int `json:"workers"`
}

// Fallback says run Run goes on with Workers workers (1: the lead alone)
// because of Reason, e.g. a helper worker that did not start or failed.
type Fallback struct {
	Run     int    `json:"run"`
	Workers int    `json:"workers"`
	Reason  string `json:"reason"`
}

// Metrics is one training step.
type Metrics struct {
	Run int `json:"run"`
	// Global is the step's number in the run, counting SFT then DPO steps
	// from 1; PhaseStep counts within the phase.
	Global    int         `json:"global"`
	Phase     train.Phase `json:"phase"`
	PhaseStep int         `json:"phase_step"`
	Epoch     int         `json:"epoch"`
	// Millis is how long the step took in the worker.
	Millis float64 `json:"ms"`
	dpo.Metrics
	// Pairs are the implicit rewards of the batch's pairs (DPO steps only).
	Pairs []train.PairReward `json:"pairs,omitempty"`
	// KTO are a KTO run's metrics under TRL's KTO names (KTO steps; SFT
	// steps of a KTO run carry loss, grad_norm and learning_rate in the
	// DPO fields), Examples the batch's per-example rewards.
	KTO      *kto.Metrics        `json:"kto,omitempty"`
	Examples []kto.ExampleReward `json:"examples,omitempty"`
	// Online are a judged run's sampling round before this step, under
	// TRL's Online DPO names, and Judged the pairs it added to the run.
	Online *online.Metrics `json:"online,omitempty"`
	Judged []data.Pair     `json:"judged,omitempty"`
	// Reward are the reward model's metrics (TRL's RewardTrainer names) on
	// a step of the reward phase of a run judged by its own reward model
	// (phase "reward"; loss, grad_norm and learning_rate are also in the
	// DPO fields, as on SFT steps).
	Reward *reward.Metrics `json:"reward,omitempty"`
	Done   bool            `json:"done"`
}

// RaceConfigured answers RaceConfigure.
type RaceConfigured struct {
	Run int `json:"run"`
	session.LaneInfo
}

// RaceStep is one step of a race lane, measured.
type RaceStep struct {
	Run int `json:"run"`
	// Millis is how long the step took in the worker, measurement included.
	Millis float64 `json:"ms"`
	session.LaneStep
}

// RaceScores are a lane's earlier measurements, scored by the judge that
// came in a RaceJudge.
type RaceScores struct {
	Run    int               `json:"run"`
	Method string            `json:"method"`
	Scores []session.Rescore `json:"scores"`
}

// Paused says continuous training stopped after step Global.
type Paused struct {
	Run    int `json:"run"`
	Global int `json:"global"`
}

// Done says the run's last step has run.
type Done struct {
	Run    int `json:"run"`
	Global int `json:"global"`
}

// Samples answers Sample.
type Samples struct {
	Run    int `json:"run"`
	ID     int `json:"id"`
	Global int `json:"global"`
	session.Samples
}

// HeldOutAnswers answers HeldOut.
type HeldOutAnswers struct {
	Run     int                     `json:"run"`
	ID      int                     `json:"id"`
	Global  int                     `json:"global"`
	Answers []session.HeldOutAnswer `json:"answers"`
}

// LabelOffer answers LabelRequest.
type LabelOffer struct {
	Run    int `json:"run"`
	ID     int `json:"id"`
	Global int `json:"global"`
	session.LabelOffer
}

// PairsAdded answers AddPairs: the run now has Pairs pairs.
type PairsAdded struct {
	Run   int `json:"run"`
	Pairs int `json:"pairs"`
}

// PairDetail answers PairRequest.
type PairDetail struct {
	Run    int `json:"run"`
	Global int `json:"global"`
	session.PairDetail
}

// Evaluation answers Evaluate, Pause and the end of a run.
type Evaluation struct {
	Run    int `json:"run"`
	Global int `json:"global"`
	session.Evaluation
}

// Exported answers Export.
type Exported struct {
	Run     int    `json:"run"`
	Which   string `json:"which"`
	Config  string `json:"config"`
	Weights []byte `json:"weights"`
}

// Imported answers Import.
type Imported struct {
	Role  string            `json:"role"`
	Name  string            `json:"name"`
	Model session.ModelInfo `json:"model"`
}

// Lead worker to helper worker.

// ShardRequest asks a helper for shard J of K of the gradient of run Run's
// next step (session.Session.ShardGrad); Seq numbers the lead's requests
// and comes back in ShardGrad, so an answer to an abandoned request is
// never taken for the current one.
type ShardRequest struct {
	Run int `json:"run"`
	Seq int `json:"seq"`
	J   int `json:"j"`
	K   int `json:"k"`
}

// ApplyGrad finishes the step every worker began with ShardRequest: Sum is
// the K shards' gradients added in shard order, Shards their reports.
// Helpers answer only when it fails (Error).
type ApplyGrad struct {
	Run    int           `json:"run"`
	Shards []train.Shard `json:"shards"`
	Sum    []float32     `json:"sum"`
}

// Helper worker to lead worker.

// ShardGrad answers ShardRequest: the shard's report and its gradient, in
// the parameters' flat layout.
type ShardGrad struct {
	Run   int         `json:"run"`
	Seq   int         `json:"seq"`
	Shard train.Shard `json:"shard"`
	Grad  []float32   `json:"grad"`
}

// Error reports a message the worker could not handle, or a worker that
// failed to start. Request names the request that failed ("configure",
// "import", ...) and Run its run, when the error answers one.
type Error struct {
	Message string `json:"message"`
	Request string `json:"request,omitempty"`
	Run     int    `json:"run,omitempty"`
}

func (Hello) MessageType() string          { return "hello" }
func (Configure) MessageType() string      { return "configure" }
func (Train) MessageType() string          { return "train" }
func (Pause) MessageType() string          { return "pause" }
func (Step) MessageType() string           { return "step" }
func (Sample) MessageType() string         { return "sample" }
func (PairRequest) MessageType() string    { return "pair" }
func (Evaluate) MessageType() string       { return "evaluate" }
func (Export) MessageType() string         { return "export" }
func (Import) MessageType() string         { return "import" }
func (ClearImports) MessageType() string   { return "clearImports" }
func (RaceConfigure) MessageType() string  { return "raceConfigure" }
func (RaceJudge) MessageType() string      { return "raceJudge" }
func (RaceConfigured) MessageType() string { return "raceConfigured" }
func (RaceStep) MessageType() string       { return "raceStep" }
func (RaceScores) MessageType() string     { return "raceScores" }
func (Ready) MessageType() string          { return "ready" }
func (Configured) MessageType() string     { return "configured" }
func (Metrics) MessageType() string        { return "metrics" }
func (Paused) MessageType() string         { return "paused" }
func (Done) MessageType() string           { return "done" }
func (Samples) MessageType() string        { return "samples" }
func (LabelRequest) MessageType() string   { return "labelRequest" }
func (AddPairs) MessageType() string       { return "addPairs" }
func (LabelOffer) MessageType() string     { return "labelOffer" }
func (PairsAdded) MessageType() string     { return "pairsAdded" }
func (HeldOut) MessageType() string        { return "heldOut" }
func (HeldOutAnswers) MessageType() string { return "heldOutAnswers" }
func (PairDetail) MessageType() string     { return "pairDetail" }
func (Evaluation) MessageType() string     { return "evaluation" }
func (Exported) MessageType() string       { return "exported" }
func (Imported) MessageType() string       { return "imported" }
func (Error) MessageType() string          { return "error" }
func (Fallback) MessageType() string       { return "fallback" }
func (ShardRequest) MessageType() string   { return "shardRequest" }
func (ApplyGrad) MessageType() string      { return "applyGrad" }
func (ShardGrad) MessageType() string      { return "shardGrad" }

// decoders maps each "type" to the decoder of its message: the one table
// to extend when a message is added.
var decoders = map[string]func(fields []byte) (Message, error){
	"hello":          decodeFields[Hello],
	"configure":      decodeFields[Configure],
	"train":          decodeFields[Train],
	"pause":          decodeFields[Pause],
	"step":           decodeFields[Step],
	"sample":         decodeFields[Sample],
	"pair":           decodeFields[PairRequest],
	"evaluate":       decodeFields[Evaluate],
	"export":         decodeFields[Export],
	"import":         decodeFields[Import],
	"clearImports":   decodeFields[ClearImports],
	"raceConfigure":  decodeFields[RaceConfigure],
	"raceJudge":      decodeFields[RaceJudge],
	"raceConfigured": decodeFields[RaceConfigured],
	"raceStep":       decodeFields[RaceStep],
	"raceScores":     decodeFields[RaceScores],
	"ready":          decodeFields[Ready],
	"configured":     decodeFields[Configured],
	"metrics":        decodeFields[Metrics],
	"paused":         decodeFields[Paused],
	"done":           decodeFields[Done],
	"samples":        decodeFields[Samples],
	"labelRequest":   decodeFields[LabelRequest],
	"addPairs":       decodeFields[AddPairs],
	"labelOffer":     decodeFields[LabelOffer],
	"pairsAdded":     decodeFields[PairsAdded],
	"heldOut":        decodeFields[HeldOut],
	"heldOutAnswers": decodeFields[HeldOutAnswers],
	"pairDetail":     decodeFields[PairDetail],
	"evaluation":     decodeFields[Evaluation],
	"exported":       decodeFields[Exported],
	"imported":       decodeFields[Imported],
	"error":          decodeFields[Error],
	"fallback":       decodeFields[Fallback],
	"shardRequest":   decodeFields[ShardRequest],
	"applyGrad":      decodeFields[ApplyGrad],
	"shardGrad":      decodeFields[ShardGrad],
}

// decodeFields decodes a JSON object without its "type" field into an M,
// refusing unknown fields so a misspelt one is reported, not ignored.
func decodeFields[M Message](fields []byte) (Message, error) {
	var m M
	dec := json.NewDecoder(bytes.NewReader(fields))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// Encode returns msg as a JSON object with its "type" field first.
func Encode(msg Message) ([]byte, error) {
	fields, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("protocol: encoding %q: %w", msg.MessageType(), err)
	}
	typ, err := json.Marshal(msg.MessageType())
	if err != nil {
		return nil, fmt.Errorf("protocol: encoding %q: %w", msg.MessageType(), err)
	}
	var out bytes.Buffer
	out.WriteString(`{"type":`)
	out.Write(typ)
	if len(fields) > 2 { // more than "{}"
		out.WriteByte(',')
		out.Write(fields[1:])
	} else {
		out.WriteByte('}')
	}
	return out.Bytes(), nil
}

// Decode parses a JSON object into the message its "type" field names.
func Decode(data []byte) (Message, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("protocol: message is not a JSON object: %w", err)
	}
	if fields == nil {
		return nil, errors.New("protocol: message is null, not a JSON object")
	}
	rawType, ok := fields["type"]
	if !ok {
		return nil, errors.New(`protocol: message has no "type" field`)
	}
	var typ string
	if err := json.Unmarshal(rawType, &typ); err != nil {
		return nil, fmt.Errorf(`protocol: field "type" is not a string: %s`, rawType)
	}
	decode, ok := decoders[typ]
	if !ok {
		return nil, fmt.Errorf(`protocol: field "type": unknown message type %q`, typ)
	}
	delete(fields, "type")
	rest, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("protocol: %q message: %w", typ, err)
	}
	msg, err := decode(rest)
	if err != nil {
		return nil, fmt.Errorf("protocol: %q message: %w", typ, err)
	}
	return msg, nil
}

// binary is the one field of a message that, in the browser, travels as a
// transferred ArrayBuffer rather than in the JSON text: model weights
// (bytes) or a gradient (floats; the buffer holds the float32 values).
type binary struct {
	field  string
	floats bool      // a []float32 field, else []byte
	bytes  []byte    // the []byte field's value
	values []float32 // the []float32 field's value
	// set returns the message with the field set to b or v (by its type).
	set func(b []byte, v []float32) Message
}

// binaryFields names, by message type, the field binaryOf returns: the
// messages with a binary field, for decoders that see the type first.
var binaryFields = map[string]string{
	"import":    "weights",
	"exported":  "weights",
	"raceJudge": "weights",
	"shardGrad": "grad",
	"applyGrad": "sum",
}

// binaryOf returns msg's binary field, if it has one.
func binaryOf(msg Message) (binary, bool) {
	switch m := msg.(type) {
	case Import:
		return binary{field: "weights", bytes: m.Weights, set: func(b []byte, _ []float32) Message { m.Weights = b; return m }}, true
	case Exported:
		return binary{field: "weights", bytes: m.Weights, set: func(b []byte, _ []float32) Message { m.Weights = b; return m }}, true
	case RaceJudge:
		return binary{field: "weights", bytes: m.Weights, set: func(b []byte, _ []float32) Message { m.Weights = b; return m }}, true
	case ShardGrad:
		return binary{field: "grad", floats: true, values: m.Grad, set: func(_ []byte, v []float32) Message { m.Grad = v; return m }}, true
	case ApplyGrad:
		return binary{field: "sum", floats: true, values: m.Sum, set: func(_ []byte, v []float32) Message { m.Sum = v; return m }}, true
	}
	return binary{}, false
}
