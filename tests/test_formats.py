"""Ports of the released weights in other layouts convert back to the original weights bit for bit.

The MultiMolecule folders are built here by an independent helper from their published layout
(names, vocabulary order, config keys), never by the package's own conversion code."""

import json
import shutil

import pytest
import torch
from safetensors.torch import save_file

from splicebert_plugin.checkpoints import CheckpointError, convert_checkpoint, inspect_checkpoint, load_masked_lm
from splicebert_plugin.cli.main import main

from .conftest import TINY, build_original_checkpoint, random_ids

VOCAB_26 = ["<pad>", "<cls>", "<eos>", "<unk>", "<mask>", "<null>", "A", "C", "G", "U", "N", "R", "Y", "S", "W", "K",
            "M", "B", "D", "H", "V", ".", "X", "*", "-", "I"]
VOCAB_28 = VOCAB_26 + ["T", "<sep>"]  # a later, longer vocabulary: the same first rows


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    return build_original_checkpoint(tmp_path_factory.mktemp("o") / "SpliceBERT.510nt", "SpliceBERT.510nt", seed=3,
                                     shrink=TINY)


def to_multimolecule(original_folder, target, *, vocab=VOCAB_26, prefix="splicebert", binary=False):
    """A MultiMolecule-format folder from an original checkpoint (their published layout)."""
    state = torch.load(original_folder / "pytorch_model.bin", weights_only=True)
    config = json.loads((original_folder / "config.json").read_text())
    ours = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "N", "A", "C", "G", "T"]
    theirs = {"[PAD]": "<pad>", "[UNK]": "<unk>", "[CLS]": "<cls>", "[SEP]": "<eos>", "[MASK]": "<mask>", "N": "N",
              "A": "A", "C": "C", "G": "G", "T": "U"}
    generator = torch.Generator().manual_seed(9)

    def widen(rows):  # their rows: ours copied by token name, the other tokens random
        out = torch.randn((len(vocab), *rows.shape[1:]), generator=generator, dtype=rows.dtype)
        for i, token in enumerate(ours):
            out[vocab.index(theirs[token])] = rows[i]
        return out

    mm = {}
    for name, tensor in state.items():
        if name == "bert.embeddings.position_ids" or name.startswith("cls.predictions.decoder"):
            continue
        if name == "cls.predictions.bias":
            mm["lm_head.bias"] = widen(tensor)
            continue
        if name.startswith("cls.predictions."):
            mm["lm_head." + name[len("cls.predictions."):].replace("LayerNorm", "layer_norm")] = tensor.clone()
            continue
        new = f"{prefix}." + name[len("bert."):].replace("LayerNorm", "layer_norm")
        mm[new] = widen(tensor) if name.endswith("word_embeddings.weight") else tensor.clone()
    target.mkdir(parents=True)
    if binary:  # their .bin also holds the decoder
        mm["lm_head.decoder.weight"] = mm[f"{prefix}.embeddings.word_embeddings.weight"]
        mm["lm_head.decoder.bias"] = mm["lm_head.bias"]
        torch.save(mm, target / "pytorch_model.bin")
    else:
        save_file({k: v.contiguous() for k, v in mm.items()}, str(target / "model.safetensors"))
    (target / "vocab.txt").write_text("\n".join(vocab))  # no trailing newline, as they write it
    (target / "config.json").write_text(json.dumps({
        "architectures": ["SpliceBertForPreTraining"], "model_type": "splicebert", "vocab_size": len(vocab),
        "hidden_size": config["hidden_size"], "num_hidden_layers": config["num_hidden_layers"],
        "num_attention_heads": config["num_attention_heads"], "intermediate_size": config["intermediate_size"],
        "hidden_act": "gelu", "hidden_dropout": 0.1, "attention_dropout": 0.1,
        "max_position_embeddings": config["max_position_embeddings"], "layer_norm_eps": 1e-12,
        "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2, "unk_token_id": 3, "mask_token_id": 4,
        "null_token_id": 5,
    }))
    return target


def assert_same_weights(model, original_folder):
    state = torch.load(original_folder / "pytorch_model.bin", weights_only=True)
    got = model.state_dict()
    for name, tensor in state.items():
        if name.endswith("position_ids"):
            continue
        assert torch.equal(got[name], tensor), name  # bit for bit


@pytest.mark.parametrize("vocab,prefix,binary", [(VOCAB_26, "splicebert", False), (VOCAB_28, "model", False),
                                                 (VOCAB_26, "splicebert", True)])
def test_multimolecule_folder_loads_and_converts_bit_for_bit(original, tmp_path, vocab, prefix, binary):
    folder = to_multimolecule(original, tmp_path / "splicebert.510", vocab=vocab, prefix=prefix, binary=binary)
    assert inspect_checkpoint(folder).format == "multimolecule"
    model = load_masked_lm(folder)
    assert_same_weights(model, original)
    converted = convert_checkpoint(folder, tmp_path / "converted")
    again = load_masked_lm(converted)
    assert_same_weights(again, original)
    assert (converted / "vocab.txt").read_text().split() == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "N", "A",
                                                               "C", "G", "T"]
    assert json.loads((converted / "config.json").read_text())["model_type"] == "splicebert"
    ids = random_ids(1, 80)
    from transformers import BertForMaskedLM

    with torch.no_grad():
        assert torch.equal(again(ids).logits, BertForMaskedLM.from_pretrained(str(original)).eval()(ids).logits)


def test_multimolecule_folder_errors(original, tmp_path):
    folder = to_multimolecule(original, tmp_path / "mm")
    (folder / "vocab.txt").write_text("\n".join(t for t in VOCAB_26 if t != "U"))
    with pytest.raises(CheckpointError, match="lacks U or T"):
        load_masked_lm(folder)
    folder = to_multimolecule(original, tmp_path / "mm2")
    (folder / "vocab.txt").write_text("\n".join(VOCAB_26[:-1]))
    with pytest.raises(CheckpointError, match="rows for 25 tokens"):
        load_masked_lm(folder)


def test_plain_bert_port_with_foreign_config(original, tmp_path):
    """A port with BERT names and the original vocabulary under a config of another model type
    (pointing at someone else's code) loads as the original."""
    folder = tmp_path / "port"
    folder.mkdir()
    state = torch.load(original / "pytorch_model.bin", weights_only=True)
    save_file({k: v.contiguous() for k, v in state.items() if not k.startswith("cls.predictions.decoder")
               and not k.endswith("position_ids")}, str(folder / "model.safetensors"))
    shutil.copyfile(original / "vocab.txt", folder / "vocab.txt")
    config = json.loads((original / "config.json").read_text())
    config.update(model_type="splicebert_port", auto_map={"AutoModelForMaskedLM": "someone/else--modeling.Model"})
    (folder / "config.json").write_text(json.dumps(config))
    assert inspect_checkpoint(folder).format == "bert-port"
    assert_same_weights(load_masked_lm(folder), original)


def test_hub_repo_from_the_huggingface_cache_offline(original, tmp_path, monkeypatch, capsys):
    """multimolecule/splicebert.510 resolves through huggingface_hub at its pinned revision, here
    from the Hub cache layout (no network)."""
    import huggingface_hub.constants

    from splicebert_plugin.checkpoints import resolve_model
    from splicebert_plugin.sources.releases import get_release

    revision = get_release("SpliceBERT.510nt").multimolecule_revision
    hub = tmp_path / "hub"
    repo = hub / "models--multimolecule--splicebert.510"
    to_multimolecule(original, repo / "snapshots" / revision)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model, label = resolve_model("multimolecule/splicebert.510")
    assert label == f"multimolecule/splicebert.510@{revision}"
    assert_same_weights(model, original)
    line = [ln for ln in _errors(["fill-mask", "-m", "multimolecule/splicebert.510", "--revision", "0" * 40,
                                  "--sequence", "ACGT", "--positions", "1"], capsys)]
    assert "not in the Hugging Face cache" in line[0]


def _errors(argv, capsys):
    assert main(argv) == 2
    return [line for line in capsys.readouterr().err.splitlines() if "error" in line]
