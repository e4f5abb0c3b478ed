"""Conversion of original-format checkpoints and the two Hub loading routes."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from transformers import AutoModel, AutoModelForMaskedLM, AutoTokenizer, BertForMaskedLM

import splicebert_plugin
from splicebert_plugin.checkpoints import CheckpointError, convert_checkpoint, inspect_checkpoint, load_masked_lm
from splicebert_plugin.publish.hub_models import drifted_files

from .conftest import ORIGINAL, REPO, random_ids


@pytest.fixture(scope="module")
def converted_510(original_510, tmp_path_factory):
    return convert_checkpoint(original_510, tmp_path_factory.mktemp("conv") / "SpliceBERT.510nt")


def test_converted_folder_contents(converted_510, original_510):
    names = {p.name for p in converted_510.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt",
            "configuration_splicebert.py", "modeling_splicebert.py", "README.md"} <= names
    config = json.loads((converted_510 / "config.json").read_text())
    assert config["model_type"] == "splicebert"
    assert set(config["auto_map"]) == {"AutoConfig", "AutoModel", "AutoModelForMaskedLM",
                                      "AutoModelForTokenClassification", "AutoModelForSequenceClassification"}
    assert config["max_position_embeddings"] == 512
    # the source folder is untouched
    assert sorted(p.name for p in original_510.iterdir()) == sorted(
        ["config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
         "pytorch_model.bin"])


def test_converted_model_equals_transformers_bert(converted_510, original_510, reference_bert_510):
    model = AutoModelForMaskedLM.from_pretrained(str(converted_510), attn_implementation="eager").eval()
    assert isinstance(model, splicebert_plugin.SpliceBertForMaskedLM)
    ids = random_ids(2, 510, seed=7)
    with torch.no_grad():
        diff = (model(ids).logits - reference_bert_510(ids).logits).abs().max().item()
    assert diff <= 1e-5
    base = AutoModel.from_pretrained(str(converted_510))
    assert isinstance(base, splicebert_plugin.SpliceBertModel)
    tokenizer = AutoTokenizer.from_pretrained(str(converted_510))
    assert tokenizer("acgu")["input_ids"] == [2, 6, 7, 8, 9, 3]


def _fresh_process(script: str, env_extra: dict) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **env_extra}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("route", ["package", "remote_code"])
def test_both_routes_in_a_fresh_offline_process(converted_510, original_510, tmp_path, route):
    """The converted folder gives BERT's logits with the package imported, and without it."""
    ids = random_ids(2, 510, seed=8)
    torch.save(ids, tmp_path / "ids.pt")
    reference = BertForMaskedLM.from_pretrained(str(original_510), attn_implementation="sdpa").eval()
    with torch.no_grad():
        torch.save(reference(ids).logits, tmp_path / "expected.pt")
    script = f"""
        import sys, torch
        {"import splicebert_plugin" if route == "package" else ""}
        from transformers import AutoModelForMaskedLM, AutoTokenizer
        model = AutoModelForMaskedLM.from_pretrained({str(converted_510)!r}, trust_remote_code={route == "remote_code"}).eval()
        tokenizer = AutoTokenizer.from_pretrained({str(converted_510)!r})
        assert tokenizer("ACGU")["input_ids"] == [2, 6, 7, 8, 9, 3]
        with torch.no_grad():
            logits = model(torch.load({str(tmp_path / "ids.pt")!r})).logits
        diff = (logits - torch.load({str(tmp_path / "expected.pt")!r})).abs().max().item()
        print(type(model).__module__, "splicebert_plugin" in sys.modules, diff)
    """
    result = _fresh_process(script, {"HF_MODULES_CACHE": str(tmp_path / "modules"), "HF_HOME": str(tmp_path / "hf")})
    assert result.returncode == 0, result.stderr[-3000:]
    module, imported, diff = result.stdout.split()[-3:]
    assert float(diff) <= 1e-5
    if route == "package":
        assert module == "splicebert_plugin.splicebert.modeling_splicebert" and imported == "True"
    else:
        assert module.startswith("transformers_modules") and imported == "False"


def test_original_folder_loads_directly_and_is_checked(original_510):
    model = load_masked_lm(original_510)
    assert isinstance(model, splicebert_plugin.SpliceBertForMaskedLM)
    info = inspect_checkpoint(original_510)
    assert info.original_format and info.max_nucleotides == 510


def test_not_a_checkpoint_errors(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        inspect_checkpoint(tmp_path / "missing")
    with pytest.raises(CheckpointError, match="no config.json"):
        inspect_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(CheckpointError, match="not a SpliceBERT checkpoint"):
        inspect_checkpoint(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        inspect_checkpoint(tmp_path)


def test_config_without_weights_says_where_to_get_them(tmp_path):
    (tmp_path / "config.json").write_text((ORIGINAL / "SpliceBERT.510nt/config.json").read_text())
    with pytest.raises(CheckpointError, match="no weights"):
        inspect_checkpoint(tmp_path)


def test_weights_of_another_model_are_rejected(tmp_path):
    (tmp_path / "config.json").write_text((ORIGINAL / "SpliceBERT.510nt/config.json").read_text())
    torch.save({"some.other.weight": torch.zeros(3)}, tmp_path / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="do not fit"):
        load_masked_lm(tmp_path)


def test_convert_refuses_to_overwrite(converted_510, original_510):
    with pytest.raises(CheckpointError, match="--force"):
        convert_checkpoint(original_510, converted_510)


def test_convert_into_a_file_path_is_refused(tiny_510, tmp_path, capsys):
    from .conftest import cli_error

    target = tmp_path / "model.bin"
    target.write_bytes(b"x")
    assert "is a file" in cli_error(["convert", tiny_510, target], capsys)
    assert target.read_bytes() == b"x"
    assert "does not exist" in cli_error(["convert", tiny_510, tmp_path / "no/such/dir/out"], capsys)


@pytest.mark.parametrize("damage", ["truncated-bin", "truncated-safetensors", "wrong-shape"])
def test_damaged_weights_give_one_clear_error(tiny_510, tmp_path, capsys, damage):
    """Truncated or mismatched weights: CheckpointError from the loader, one line from the CLI."""
    import shutil

    from .conftest import cli_error

    folder = tmp_path / "damaged"
    shutil.copytree(tiny_510, folder)
    if damage == "truncated-bin":
        data = (folder / "pytorch_model.bin").read_bytes()
        (folder / "pytorch_model.bin").write_bytes(data[: len(data) // 2])
    elif damage == "truncated-safetensors":
        converted = convert_checkpoint(tiny_510, tmp_path / "conv")
        data = (converted / "model.safetensors").read_bytes()
        (converted / "model.safetensors").write_bytes(data[: len(data) // 2])
        folder = converted
    else:
        state = torch.load(folder / "pytorch_model.bin", weights_only=True)
        state["bert.embeddings.word_embeddings.weight"] = torch.zeros(10, 16)
        torch.save(state, folder / "pytorch_model.bin")
    with pytest.raises(CheckpointError, match="weights"):
        load_masked_lm(folder)
    line = cli_error(["fill-mask", "-m", folder, "--sequence", "ACGT", "--positions", "1"], capsys)
    assert str(folder) in line


def test_hub_models_match_a_fresh_export():
    """hub_models/ is generated from the package: its config, tokenizer files, model code (the
    package's own modules) and cards equal a fresh export."""
    assert drifted_files(REPO / "hub_models") == []


@pytest.mark.parametrize("release", ["SpliceBERT.1024nt", "SpliceBERT.510nt", "SpliceBERT-human.510nt"])
def test_hub_model_folder_plus_weights_loads_by_remote_code(release, tmp_path):
    """A hub_models folder + released weights (as converted) is a complete Hub repo."""
    import shutil

    folder = tmp_path / release
    shutil.copytree(REPO / "hub_models" / release, folder)
    config = splicebert_plugin.SpliceBertConfig.from_pretrained(str(folder))
    splicebert_plugin.SpliceBertForMaskedLM(config).save_pretrained(str(tmp_path / "weights"))
    shutil.copyfile(tmp_path / "weights" / "model.safetensors", folder / "model.safetensors")
    loaded = AutoModelForMaskedLM.from_pretrained(str(folder), trust_remote_code=True)
    assert loaded.config.max_position_embeddings == config.max_position_embeddings
    card = (folder / "README.md").read_text()
    for needed in ("## Intended use", "## How to load", "## Citation", "## Licence", "Training data"):
        assert needed in card


def test_demo_model_loads_through_the_package():
    """The bundled demo model carries no copy of the model code: it loads through the package."""
    from splicebert_plugin import DEMO_MODEL

    folder = Path(DEMO_MODEL)
    assert not list(folder.glob("*.py")) and "auto_map" not in json.loads((folder / "config.json").read_text())
    model = AutoModelForMaskedLM.from_pretrained(DEMO_MODEL)
    assert isinstance(model, splicebert_plugin.SpliceBertForMaskedLM)
    assert torch.equal(load_masked_lm(DEMO_MODEL).state_dict()["cls.predictions.decoder.weight"],
                       model.state_dict()["cls.predictions.decoder.weight"])
    card = (folder / "README.md").read_text()
    assert "not the paper's weights" in card and "k-mer" in card
    assert (folder / "model.safetensors").stat().st_size < 8 * 2**20


def test_demo_card_states_the_verdict_from_the_numbers():
    from splicebert_plugin.splicebert.configuration_splicebert import SpliceBertConfig
    from splicebert_plugin.checkpoints.model_cards import card_for_demo

    config = SpliceBertConfig(hidden_size=128, num_hidden_layers=4, num_attention_heads=4, intermediate_size=512,
                              max_position_embeddings=512)
    training = {"config": {"min_length": 510, "learning_rate": 5e-4, "max_steps": 10, "batch_size": 16,
                           "warmup_steps": 2, "plateau_patience": 2, "eval_every": 5, "val_windows": 32,
                           "dropout": 0.0}, "last_eval": {"val_loss": 1.25, "val_accuracy": 0.4, "val_tokens": 100}}
    meta = {"sequences": 3, "nucleotides": 3000, "validation_sequences": 1,
            "summary": {"human": {"sequences": 3, "nucleotides": 3000, "n_fraction": 0.0}}}
    evaluation = {"positions": 1000, "model_masked_ce_acgt": 1.30, "model_accuracy": 0.4,
                  "kmer_2plus2_masked_ce": 1.32, "kmer_accuracy": 0.38, "unigram_masked_ce": 1.38,
                  "splice_site_dinucleotide_positions": 10, "other_gt_ag_positions": 100,
                  "model_accuracy_at_splice_sites": 0.5, "model_accuracy_at_other_gt_ag": 0.3,
                  "kmer_accuracy_at_splice_sites": 0.3, "kmer_accuracy_at_other_gt_ag": 0.3}
    good = card_for_demo(config, training, evaluation, meta)
    assert "has learnt more than short k-mer statistics" in good and "not yet" not in good
    assert "dropout 0.0" in good and "32 windows per validation sequence" in good
    worse = card_for_demo(config, training, evaluation | {"model_masked_ce_acgt": 1.33}, meta)
    assert "has not yet learnt" in worse and "not below the 2 + 2 k-mer" in worse
    assert "is not above that at other GT/AG" not in worse
    both = card_for_demo(config, training, evaluation | {"model_accuracy_at_splice_sites": 0.2}, meta)
    assert "is not above that at other GT/AG" in both
