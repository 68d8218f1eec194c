package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"dpoplayground/core/data"
	"dpoplayground/core/gpt"
	"dpoplayground/core/kto"
	"dpoplayground/core/train"
)

func cmdTrain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train", stderr)
	dataPath := fs.String("data", "", "preference pairs file, or unpaired examples (prompt, completion, label) for KTO")
	outDir := fs.String("out", "", "folder to write the trained policy into")
	asJSON := fs.Bool("json", false, "print one JSON line per step")
	var tf trainFlags
	tf.register(fs)
	cfg, lf, schedule, policyDir, refDir := &tf.cfg, &tf.lf, &tf.schedule, &tf.policyDir, &tf.refDir
	desirable := fs.Float64("desirable-weight", 1, "KTO: weight of the desirable examples' losses (TRL's desirable_weight)")
	undesirable := fs.Float64("undesirable-weight", 1, "KTO: weight of the undesirable examples' losses (TRL's undesirable_weight)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "data", "out"); err != nil {
		return err
	}
	text, err := os.ReadFile(*dataPath)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if isKTOLoss(lf.loss) || data.Unpaired(text) {
		if set["loss"] && !isKTOLoss(lf.loss) {
			return fmt.Errorf("-loss: %s holds unpaired examples (prompt, completion, label), which train with -loss kto or apo_zero_unpaired, not %s", *dataPath, lf.loss)
		}
		kc := kto.Config{Preset: cfg.Preset, Seed: cfg.Seed, SFTSteps: cfg.SFTSteps, SFTLR: cfg.SFTLR, Steps: cfg.Steps,
			Loss: kto.Loss{Type: kto.KTO, Beta: lf.beta, DesirableWeight: *desirable, UndesirableWeight: *undesirable},
			LR:   cfg.LR, BatchSize: cfg.BatchSize, Warmup: cfg.Warmup, Schedule: train.Schedule(*schedule),
			WeightDecay: cfg.WeightDecay, Clip: cfg.Clip}
		if set["loss"] {
			kc.Type = kto.LossType(lf.loss)
		}
		return trainKTO(kc, set, *dataPath, text, *policyDir, *refDir, *outDir, *asJSON, stdout, stderr)
	}
	for _, name := range []string{"desirable-weight", "undesirable-weight"} {
		if set[name] {
			return fmt.Errorf("-%s: applies to KTO (-loss kto or an unpaired -data file), not to %s", name, lf.loss)
		}
	}
	if err := tf.finish(); err != nil {
		return err
	}
	w, err := tf.weights()
	if err != nil {
		return err
	}
	ds, err := data.Parse(text)
	if err != nil {
		return fmt.Errorf("%s: %w", *dataPath, err)
	}
	tr, err := train.New(*cfg, ds.Pairs, w)
	if err != nil {
		return err
	}
	mc := tr.Policy().Cfg
	if !*asJSON {
		fmt.Fprintf(stderr, "%d pairs (%d truncated to %d tokens); model %d layers × %d wide, %d parameters\n",
			tr.NumPairs(), tr.Truncated(), mc.NPositions, mc.NLayer, mc.NEmbd, mc.NumParams())
	}
	enc := json.NewEncoder(stdout)
	prog := newProgress(stderr, cfg.SFTSteps, cfg.Steps)
	var last train.StepResult
	for !tr.Done() {
		r, err := tr.Step()
		if err != nil {
			if *asJSON {
				return err
			}
			prog.finish()
			if saveErr := tr.Policy().SaveDir(*outDir); saveErr == nil {
				return fmt.Errorf("%v (the last good policy is saved in %s)", err, *outDir)
			}
			return err
		}
		last = r
		if *asJSON {
			if err := enc.Encode(r); err != nil {
				return err
			}
		} else {
			prog.update(r)
		}
	}
	prog.finish()
	if err := tr.Policy().SaveDir(*outDir); err != nil {
		return err
	}
	if !*asJSON {
		ev, err := tr.Evaluate()
		if err != nil {
			return err
		}
		m := ev.Metrics
		fmt.Fprintf(stdout, "after %d DPO steps: loss %.4f, rewards/accuracies %.3f, rewards/margins %.4f (chosen %.4f, rejected %.4f)\n",
			last.Step, m.Loss, m.RewardsAccuracy, m.RewardsMargins, m.RewardsChosen, m.RewardsRejected)
		fmt.Fprintf(stdout, "wrote %s/model.safetensors and %s/config.json\n", *outDir, *outDir)
	}
	return nil
}

// trainFlags are the flags of a DPO run shared by train and online: model
// size or weights, the SFT and DPO phases, the loss.
type trainFlags struct {
	cfg                        train.Config
	lf                         lossFlags
	schedule                   string
	initDir, policyDir, refDir string
}

func (f *trainFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.initDir, "init", "", "model folder SFT and DPO start from, e.g. the pretrained base public/models/base (with -sft-steps 0 it is also the reference)")
	fs.StringVar(&f.policyDir, "policy", "", "initial policy model folder (with -ref: a policy that already moved away from it)")
	fs.StringVar(&f.refDir, "ref", "", "reference model folder (optional; without it the SFT phase builds one)")
	f.cfg = train.DefaultConfig()
	cfg := &f.cfg
	fs.StringVar(&cfg.Preset, "preset", cfg.Preset, "model size without -policy/-ref: nano, micro or small")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the initial weights and the batch order")
	fs.IntVar(&cfg.SFTSteps, "sft-steps", 0, "SFT steps that build the reference before DPO")
	fs.StringVar(&cfg.SFTOn, "sft-on", cfg.SFTOn, "SFT on the chosen responses or on both")
	fs.Float64Var(&cfg.SFTLR, "sft-lr", cfg.SFTLR, "SFT learning rate")
	fs.IntVar(&cfg.Steps, "steps", 100, "DPO steps")
	fs.Float64Var(&cfg.LR, "lr", 1e-3, "DPO learning rate")
	fs.Float64Var(&cfg.WeightDecay, "weight-decay", 0, "AdamW decoupled weight decay")
	fs.Float64Var(&cfg.Clip, "clip", 1, "global gradient-norm limit (0: none)")
	fs.IntVar(&cfg.BatchSize, "batch", 0, "pairs per step (0: all pairs)")
	fs.IntVar(&cfg.Warmup, "warmup", 0, "linear warm-up steps in each phase")
	fs.StringVar(&f.schedule, "schedule", "constant", "learning rate after warm-up: constant or cosine")
	fs.IntVar(&cfg.RefModelSyncSteps, "sync-ref-steps", 0, "TR-DPO: every N DPO steps move the reference toward the policy (0: a frozen reference)")
	fs.Float64Var(&cfg.RefModelMixupAlpha, "sync-ref-alpha", cfg.RefModelMixupAlpha, "TR-DPO's α: the reference becomes α·policy + (1−α)·reference")
	f.lf.register(fs)
}

// finish completes cfg from the parsed flags: schedule, loss and TR-DPO.
func (f *trainFlags) finish() error {
	cfg := &f.cfg
	var err error
	if cfg.Schedule, err = train.ParseSchedule(f.schedule); err != nil {
		return err
	}
	if cfg.Config, err = f.lf.config(); err != nil {
		return err
	}
	cfg.SyncRefModel = cfg.RefModelSyncSteps != 0
	if cfg.SyncRefModel && cfg.RefModelSyncSteps < 0 {
		return fmt.Errorf("-sync-ref-steps: %d is negative", cfg.RefModelSyncSteps)
	}
	if cfg.SyncRefModel && !(cfg.RefModelMixupAlpha > 0 && cfg.RefModelMixupAlpha <= 1) {
		return fmt.Errorf("-sync-ref-alpha: %v is not in (0, 1]", cfg.RefModelMixupAlpha)
	}
	return nil
}

// weights loads -init, or -policy and -ref.
func (f *trainFlags) weights() (train.Weights, error) {
	var w train.Weights
	var err error
	policyDir := f.policyDir
	if f.initDir != "" {
		if f.policyDir != "" || f.refDir != "" {
			return w, fmt.Errorf("-init: give -init alone, or -policy and -ref, not both")
		}
		policyDir = f.initDir
	}
	if policyDir != "" {
		if w.Policy, err = gpt.LoadDir(policyDir); err != nil {
			return w, err
		}
	}
	if f.refDir != "" {
		if w.Reference, err = gpt.LoadDir(f.refDir); err != nil {
			return w, err
		}
	}
	return w, nil
}

// progress draws one updating status line with an ETA on a terminal-like writer.
type progress struct {
	w          io.Writer
	total      int
	done       int
	start      time.Time
	lastDrawn  time.Time
	open       bool // a status line is drawn without its newline
	phaseSteps map[train.Phase]int
}

func newProgress(w io.Writer, sftSteps, steps int) *progress {
	return &progress{w: w, total: sftSteps + steps, start: time.Now(),
		phaseSteps: map[train.Phase]int{train.PhaseSFT: sftSteps, train.PhaseDPO: steps, kto.PhaseKTO: steps}}
}

func (p *progress) update(r train.StepResult) {
	extra := ""
	if r.Phase == train.PhaseDPO {
		extra = fmt.Sprintf("  acc %.2f  margin %.3f", r.RewardsAccuracy, r.RewardsMargins)
	}
	p.draw(r.Phase, r.Step, r.Loss, extra)
}

// draw shows step of phase with its loss and extra numbers.
func (p *progress) draw(phase train.Phase, step int, loss float64, extra string) {
	p.done++
	now := time.Now()
	lastOfPhase := step == p.phaseSteps[phase]
	if now.Sub(p.lastDrawn) < 100*time.Millisecond && !lastOfPhase {
		return
	}
	p.lastDrawn = now
	elapsed := now.Sub(p.start)
	rate := float64(p.done) / elapsed.Seconds()
	eta := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
	line := fmt.Sprintf("%s step %d/%d  loss %.4f", phase, step, p.phaseSteps[phase], loss)
	line += extra
	line += fmt.Sprintf("  %.1f steps/s  ETA %s", rate, eta.Round(time.Second))
	fmt.Fprintf(p.w, "\r%-90s", line)
	p.open = true
	if lastOfPhase {
		p.finish()
	}
}

// finish ends an unfinished status line.
func (p *progress) finish() {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}
