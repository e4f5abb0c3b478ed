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
    assert not list(folder.glob("*.py"))  # loads through the installed package, never as remote code


def test_demo_card_renders_every_history_entry_and_arm():
    """The card generator (code, not the committed card): one row per evaluation, values to three
    decimals, a dash for a loss an arm does not log, the results table when given."""
    from splicebert_plugin.checkpoints.model_cards import card_for_genebert_demo

    summary = json.loads((Path(DEMO_MODEL) / "training_summary.json").read_text())
    summary = {**summary, "history": [
        {"step": 10, "val_mlm_loss": 8.12345, "val_nsp_loss": 0.69, "val_srm_loss": 2.0, "val_r_at_1": 0.1,
         "val_r_at_1_chance": 0.0625},
        {"step": 20, "val_mlm_loss": 7.5, "val_nsp_loss": 0.6404, "val_srm_loss": 0.7865, "val_r_at_1": 0.7264,
         "val_r_at_1_chance": 0.0625}]}
    arms = {"mlm_only": {"val_mlm_loss": 7.2684}}
    card = card_for_genebert_demo(summary, arms, "| a results table |\n")
    assert "| 10 | 8.123 | 0.690 | 2.000 | 0.100 (0.062) |" in card
    assert "| 20 | 7.500 | 0.640 | 0.786 | 0.726 (0.062) |" in card
    assert "| mlm_only | 7.268 | - | - |" in card and "| a results table |" in card
    assert "not computed" in card_for_genebert_demo(summary, arms, None)
    assert "not measured" in card
    evaluation = {"val_mlm_loss": 7.5349, "val_mlm_mask_accuracy": 0.00281, "val_nsp_accuracy": 0.6257,
                  "val_r_at_1": 0.7264, "val_r_at_1_chance": 0.0629, "baseline": {"gc_r_at_1": 0.99686}}
    card = card_for_genebert_demo(summary, arms, None, evaluation)
    assert "| MLM accuracy at `[MASK]` inputs | 0.0028 |" in card
    assert "| in-batch retrieval R@1 (chance) | 0.726 (0.063) |" in card
    assert "| GC-only retrieval R@1, same batches | 0.997 |" in card
