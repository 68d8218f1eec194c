package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
	"dpoplayground/core/kto"
	"dpoplayground/core/train"
)

// isKTOLoss says whether -loss names one of KTOTrainer's losses.
func isKTOLoss(loss string) bool {
	for _, l := range kto.LossTypes() {
		if loss == string(l) {
			return true
		}
	}
	return false
}

// dpoOnlyFlags are train's flags that KTO has no use for.
var dpoOnlyFlags = []string{"loss-weights", "label-smoothing", "reference-free", "simpo-gamma", "rpo-alpha",
	"discopop-tau", "f-divergence", "f-alpha", "use-weighting", "ld-alpha", "sync-ref-steps", "sync-ref-alpha", "sft-on"}

// ktoFlagOf names the flag of each KTO setting, by its JSON name.
var ktoFlagOf = map[string]string{"loss_type": "-loss", "beta": "-beta", "desirable_weight": "-desirable-weight",
	"undesirable_weight": "-undesirable-weight", "sft_steps": "-sft-steps", "steps": "-steps", "lr": "-lr",
	"sft_lr": "-sft-lr", "batch_size": "-batch", "warmup": "-warmup", "weight_decay": "-weight-decay", "clip": "-clip"}

// trainKTO is dpo train on unpaired examples, or on pairs unpaired when
// -loss names a KTO loss: SFT on the desirable completions, then KTO.
func trainKTO(cfg kto.Config, set map[string]bool, path string, text []byte, policyDir, refDir, outDir string, asJSON bool, stdout, stderr io.Writer) error {
	for _, name := range dpoOnlyFlags {
		if set[name] {
			return fmt.Errorf("-%s: applies to DPO, not to KTO (%s)", name, cfg.Type)
		}
	}
	var err error
	if cfg.Schedule, err = train.ParseSchedule(string(cfg.Schedule)); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		field, rest, _ := strings.Cut(strings.TrimPrefix(err.Error(), "kto: "), ": ")
		if f, ok := ktoFlagOf[field]; ok {
			return fmt.Errorf("%s: %s", f, rest)
		}
		return err
	}
	var examples []data.Example
	if data.Unpaired(text) {
		ds, err := data.ParseUnpaired(text)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		examples = ds.Examples
	} else {
		ds, err := data.Parse(text)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		examples = data.Unpair(ds.Pairs)
	}
	var w train.Weights
	if policyDir != "" {
		if w.Policy, err = gpt.LoadDir(policyDir); err != nil {
			return err
		}
	}
	if refDir != "" {
		if w.Reference, err = gpt.LoadDir(refDir); err != nil {
			return err
		}
	}
	tr, err := kto.New(cfg, examples, w)
	if err != nil {
		return err
	}
	mc := tr.Policy().Cfg
	if !asJSON {
		fmt.Fprintf(stderr, "%d unpaired examples (%d truncated to %d tokens), loss %s; model %d layers × %d wide, %d parameters\n",
			tr.NumExamples(), tr.Truncated(), mc.NPositions, cfg.Type, mc.NLayer, mc.NEmbd, mc.NumParams())
	}
	enc := json.NewEncoder(stdout)
	prog := newProgress(stderr, cfg.SFTSteps, cfg.Steps)
	var last kto.StepResult
	for !tr.Done() {
		r, err := tr.Step()
		if err != nil {
			if asJSON {
				return err
			}
			prog.finish()
			if saveErr := tr.Policy().SaveDir(outDir); saveErr == nil {
				return fmt.Errorf("%v (the last good policy is saved in %s)", err, outDir)
			}
			return err
		}
		last = r
		if asJSON {
			if err := enc.Encode(r); err != nil {
				return err
			}
			continue
		}
		extra := ""
		if r.Phase == kto.PhaseKTO {
			extra = fmt.Sprintf("  kl %.3f  margin %.3f", r.KL, r.RewardsMargins)
		}
		prog.draw(r.Phase, r.Step, r.Loss, extra)
	}
	prog.finish()
	if err := tr.Policy().SaveDir(outDir); err != nil {
		return err
	}
	if !asJSON {
		ev, err := tr.Evaluate()
		if err != nil {
			return err
		}
		m := ev.Metrics
		fmt.Fprintf(stdout, "after %d KTO steps: loss %.4f, kl %.4f, rewards/margins %.4f (chosen %.4f, rejected %.4f)\n",
			last.Step, m.Loss, m.KL, m.RewardsMargins, m.RewardsChosen, m.RewardsRejected)
		fmt.Fprintf(stdout, "wrote %s/model.safetensors and %s/config.json\n", outDir, outDir)
	}
	return nil
}
