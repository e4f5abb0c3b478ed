"""The bundled GeneBERT demo model: it loads through the Auto classes, its training summary has
the per-evaluation history, and its card agrees with that summary."""

import json
import math
from pathlib import Path

import torch

from splicebert_plugin.genebert import DEMO_MODEL, GeneBertForPreTraining, GeneBertTokenizer


def test_demo_model_loads_and_predicts():
    from transformers import AutoConfig, AutoModelForPreTraining, AutoTokenizer

    config = AutoConfig.from_pretrained(DEMO_MODEL)
    model = AutoModelForPreTraining.from_pretrained(DEMO_MODEL).eval()
    assert isinstance(model, GeneBertForPreTraining)
    tokenizer = AutoTokenizer.from_pretrained(DEMO_MODEL)
    assert isinstance(tokenizer, GeneBertTokenizer) and tokenizer.kmer == config.kmer
    sequence = "ACGTTGCAGGCTTACCGATTAGCCGATCGATTTACGGCATCGA" * 2
    ids = torch.tensor([tokenizer(sequence)["input_ids"]])
    assert ids.shape[1] == len(sequence) - config.kmer + 1 + 2
    regions = torch.rand(1, config.num_regions, config.num_tfs)
    with torch.no_grad():
        out = model(input_ids=ids, region_values=regions)
    assert out.prediction_logits.shape == (1, ids.shape[1], config.vocab_size)
    assert torch.isfinite(out.prediction_logits).all()
    assert out.seq_embeds.shape == out.region_embeds.shape and out.seq_embeds.shape[0] == 1


def test_demo_training_summary_history_and_card():
    folder = Path(DEMO_MODEL)
    summary = json.loads((folder / "training_summary.json").read_text())
    history = summary["history"]
    assert len(history) >= 5
    steps = [entry["step"] for entry in history]
    assert steps == sorted(steps) and steps[-1] == summary["config"]["max_steps"]
    for entry in history:
        for key in ("val_mlm_loss", "val_nsp_loss", "val_srm_loss"):
            assert math.isfinite(entry[key])
    vocab = json.loads((folder / "config.json").read_text())["vocab_size"]
    first, last = history[0], history[-1]
    # pretraining did something: MLM below a uniform guess over the k-mer vocabulary, matching
    # loss down, retrieval above chance
    assert last["val_mlm_loss"] < math.log(vocab) and last["val_srm_loss"] < first["val_srm_loss"]
    assert last["val_r_at_1"] > 2 * last["val_r_at_1_chance"]
    card = (folder / "README.md").read_text()
    assert f"| {last['step']} | {last['val_mlm_loss']:.3f} | {last['val_nsp_loss']:.3f} |" in card
    assert "| genomic | GeneBERT (lambda 0.5) |" in card and "| donor 80 nt |" in card
    assert not list(folder.glob("*.py"))  # loads through the installed package, never as remote code
