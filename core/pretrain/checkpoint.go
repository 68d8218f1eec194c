package pretrain

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"dpoplayground/core/corpus"
	"dpoplayground/core/gpt"
	"dpoplayground/core/safetensors"
	"dpoplayground/core/train"
)

// The files of a checkpoint folder besides the Hugging Face model
// (config.json + model.safetensors).
const (
	// StateFile holds the run's configuration and position (State).
	StateFile = "pretrain.json"
	// TrainerFile holds the exact float32 weights and AdamW's moments.
	TrainerFile = "pretrain.safetensors"
)

// State is what StateFile records.
type State struct {
	Config    Config `json:"config"`
	Step      int    `json:"step"`       // steps taken
	CorpusPos uint64 `json:"corpus_pos"` // index of the next corpus example
	AdamSteps int    `json:"adam_steps"` // updates AdamW has applied
	// ModelDType is how model.safetensors stores the weights ("F32" or
	// "F16"); TrainerFile always keeps them as F32, so a resume is exact.
	ModelDType string `json:"model_dtype"`
}

// Save writes a checkpoint into dir (created if needed): the model as a
// Hugging Face folder with its weights stored as dtype ("F32" or "F16"),
// StateFile, and TrainerFile.
func (t *Trainer) Save(dir, dtype string) error {
	p := t.model.Params
	if err := p.SaveDirAs(dir, dtype); err != nil {
		return err
	}
	m, v := t.opt.Moments()
	n := []int{len(p.Data)}
	w, err := safetensors.Marshal([]safetensors.Tensor{
		{Name: "params", Shape: n, Data: p.Data},
		{Name: "adam.m", Shape: n, Data: m},
		{Name: "adam.v", Shape: n, Data: v},
	}, nil)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, TrainerFile), w, 0o644); err != nil {
		return err
	}
	st := State{Config: t.cfg, Step: t.step, CorpusPos: t.stream.Pos(), AdamSteps: t.opt.Steps(), ModelDType: dtype}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, StateFile), append(b, '\n'), 0o644)
}

// Resume continues the run checkpointed in dir. steps > 0 sets a new total
// number of steps (at least those taken; the schedule then follows the new
// total); 0 keeps the checkpoint's. With the same total, the resumed run
// reaches the weights an uninterrupted run reaches, bit for bit.
func Resume(dir string, steps int) (*Trainer, error) {
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		return nil, err
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("pretrain: %s: %w", StateFile, err)
	}
	if steps > 0 {
		if steps < st.Step {
			return nil, fmt.Errorf("pretrain: steps: %d is fewer than the %d the checkpoint has taken", steps, st.Step)
		}
		st.Config.Steps = steps
	}
	if err := st.Config.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", StateFile, err)
	}
	if st.Step < 0 || st.Step > st.Config.Steps {
		return nil, fmt.Errorf("pretrain: %s: step %d is outside [0, %d]", StateFile, st.Step, st.Config.Steps)
	}
	w, err := os.ReadFile(filepath.Join(dir, TrainerFile))
	if err != nil {
		return nil, err
	}
	f, err := safetensors.Read(w)
	if err != nil {
		return nil, fmt.Errorf("pretrain: %s: %w", TrainerFile, err)
	}
	mc, _ := gpt.PresetConfig(st.Config.Preset)
	p := gpt.NewParams(mc)
	var mv [2][]float32
	for i, name := range []string{"params", "adam.m", "adam.v"} {
		ts, ok := f.Get(name)
		if !ok || ts.DType != "F32" || len(ts.Data) != len(p.Data) {
			return nil, fmt.Errorf("pretrain: %s: tensor %q is missing or is not %d F32 values", TrainerFile, name, len(p.Data))
		}
		if i == 0 {
			copy(p.Data, ts.Data)
		} else {
			mv[i-1] = ts.Data
		}
	}
	m := gpt.NewModel(p)
	m.EnableGrads()
	opt := train.NewAdamW(len(p.Data), st.Config.WeightDecay)
	if err := opt.Restore(st.AdamSteps, mv[0], mv[1]); err != nil {
		return nil, err
	}
	return &Trainer{
		cfg:    st.Config,
		model:  m,
		opt:    opt,
		stream: corpus.New(st.Config.Seed).Stream(st.CorpusPos),
		step:   st.Step,
	}, nil
}
