// Command dpo is the DPO Playground's core on the command line: train a tiny
// byte-level GPT-2 with SFT then DPO, evaluate a policy against a reference,
// and sample from a model.
//
//	dpo train  -data FILE -out DIR [-policy DIR -ref DIR | -preset micro -sft-steps N] ...
//	dpo train  -data UNPAIRED -out DIR [-loss kto|apo_zero_unpaired -desirable-weight 1 -undesirable-weight 1] ...
//	dpo eval   -policy DIR -ref DIR -data FILE [-beta 0.1] [-loss sigmoid[,sft] -loss-weights 1,0.005] [-json]
//	dpo sample -model DIR -prompt TEXT [-temperature 0] [-top-k 0] [-max-tokens 64]
//	dpo rlhf   -data FILE -out DIR [-sft-steps N -rm-steps N -ppo-steps N -kl-coef 0.05 ...] [-json]
//	dpo online -data FILE -judge SPEC [-every K] [-json] [-pairs-out FILE] [train's flags]
//	dpo race   -data FILE [-steps N -rm-steps N -ppo-steps N ...] [-json]
//	dpo bench  [-preset micro] [-json] [-compare FILE]
//	dpo pretrain -out DIR [-preset micro] [-steps N] [-resume DIR] [-f16] ...
//
// Model folders are Hugging Face's (config.json + model.safetensors) and load
// in transformers.GPT2LMHeadModel.from_pretrained.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const usage = `dpo — Direct Preference Optimization on a tiny byte-level GPT-2

usage:
  dpo train  -data FILE -out DIR [flags]   SFT then DPO; see dpo train -h
                                           (SFT then KTO on unpaired examples or with -loss kto)
  dpo eval   -policy DIR -ref DIR -data FILE [flags]
  dpo sample -model DIR -prompt TEXT [flags]
  dpo reward -data FILE -out DIR [flags]   reward model (GPT2ForSequenceClassification)
  dpo reward -score -model DIR -prompt TEXT -completion TEXT
  dpo rlhf   -data FILE -out DIR [flags]   SFT, reward model, then PPO; see dpo rlhf -h
  dpo race   -data FILE [flags]            DPO against RLHF from the same π_ref; see dpo race -h
  dpo online -data FILE -judge SPEC [flags]  online DPO: sample two answers, judge, add the pair;
                                           SPEC: shorter, contains:TEXT, regex:RE, rm (trained
                                           on FILE first) or rm:DIR
  dpo bench  [-preset micro] [-json]       speed benchmark; see dpo bench -h
  dpo pretrain -out DIR [flags]            base model on the generated corpus; see dpo pretrain -h

Losses (-loss, one name or a comma list summed with -loss-weights, as TRL's
loss_type and loss_weights; train and eval):
  %s
  -f-divergence reverse_kl|forward_kl|js_divergence|alpha_divergence [-f-alpha 0.5]
  -discopop-tau 0.05  -use-weighting (WPO)  -ld-alpha A (LD-DPO)  -rpo-alpha A (adds sft)
  train only: -sync-ref-steps N -sync-ref-alpha 0.6 (TR-DPO)

KTO (train; TRL's KTOTrainer): -loss kto|apo_zero_unpaired -beta 0.1
  -desirable-weight 1 -undesirable-weight 1; SFT trains on the desirable
  completions. An unpaired -data file trains KTO by itself; a paired one is
  unpaired (chosen → true, rejected → false) when -loss names a KTO loss.

DIR is a Hugging Face model folder (config.json + model.safetensors).
FILE holds preference pairs: TRL JSONL/JSON (prompt, chosen, rejected; or
conversational), CSV/TSV with a header, or the playground's text format; or,
for KTO, unpaired examples in the same forms (prompt, completion, label).
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks an error already explained by the flag package.
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(stderr, usage, lossNames())
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) error{
		"train":    cmdTrain,
		"eval":     cmdEval,
		"sample":   cmdSample,
		"bench":    cmdBench,
		"reward":   cmdReward,
		"rlhf":     cmdRLHF,
		"race":     cmdRace,
		"pretrain": cmdPretrain,
		"online":   cmdOnline,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "dpo: unknown command %q (train, eval, sample, bench, reward, rlhf, race, online or pretrain)\n", args[0])
		return 2
	}
	if err := cmd(args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if !errors.Is(err, errUsage) {
			fmt.Fprintf(stderr, "dpo %s: %s\n", args[0], oneLine(err))
		}
		return 1
	}
	return 0
}

// oneLine keeps an error message on one line (a data error may list several).
func oneLine(err error) string {
	s := strings.TrimSpace(err.Error())
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		rest := strings.Count(s[i:], "\n")
		return fmt.Sprintf("%s (and %d more)", s[:i], rest)
	}
	return s
}

// newFlags returns a flag set that reports errors through run's return.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("dpo "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args, rejecting stray positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags go before it?)", fs.Arg(0))
	}
	return nil
}

// required checks that string flags were given.
func required(fs *flag.FlagSet, names ...string) error {
	for _, n := range names {
		if fs.Lookup(n).Value.String() == "" {
			return fmt.Errorf("-%s is required", n)
		}
	}
	return nil
}
