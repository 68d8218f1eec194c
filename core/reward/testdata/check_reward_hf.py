"""Check that a reward-model folder written by core/reward loads in
transformers' GPT2ForSequenceClassification and scores as the Go code does.

    REWARD_HF_OUT=/tmp/rm go test ./core/reward/ -run TestWriteHFCheckFolder
    python core/reward/testdata/check_reward_hf.py /tmp/rm

The folder holds config.json, model.safetensors and expected_scores.json
(prompt, completion, score as Go's Model.Score computed it). Token ids are
bytes, EOS is 256; HF reads [EOS]+prompt+completion and scores the last
non-pad token (pad = EOS), which is the Go code's "last input".
"""
import json
import sys

import torch
from transformers import GPT2ForSequenceClassification

folder = sys.argv[1]
model = GPT2ForSequenceClassification.from_pretrained(folder).eval()
cases = json.load(open(f"{folder}/expected_scores.json"))
worst = 0.0
with torch.no_grad():
    for c in cases:
        ids = [256] + list(c["prompt"].encode()) + list(c["completion"].encode())
        got = model(torch.tensor([ids])).logits[0, 0].item()
        worst = max(worst, abs(got - c["score"]) / max(1.0, abs(c["score"])))
        print(f"{got:+.6f} (Go {c['score']:+.6f})  {c['prompt']!r} -> {c['completion']!r}")
print(f"largest relative difference {worst:.2e}")
sys.exit(0 if worst < 1e-4 else 1)
