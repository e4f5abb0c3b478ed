import json

import pytest

from splicebert_plugin import SpliceBertConfig

from .conftest import ORIGINAL


def test_defaults_are_the_released_1024nt_model():
    config = SpliceBertConfig()
    released = json.loads((ORIGINAL / "SpliceBERT.1024nt/config.json").read_text())
    for key in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "hidden_act",
                "max_position_embeddings", "layer_norm_eps", "type_vocab_size", "vocab_size", "pad_token_id"):
        assert getattr(config, key) == released[key], key
    assert config.max_nucleotides == 1024
    assert config.tie_word_embeddings is True


@pytest.mark.parametrize("release", ["SpliceBERT.510nt", "SpliceBERT.1024nt", "SpliceBERT-human.510nt"])
def test_original_release_config_loads(release):
    config = SpliceBertConfig.from_pretrained(str(ORIGINAL / release))
    assert config.model_type == "splicebert"
    assert config.output_hidden_states is True  # stored by the release


def test_round_trip(tmp_path):
    config = SpliceBertConfig(num_hidden_layers=3, classifier_dropout=0.2)
    config.save_pretrained(str(tmp_path))
    again = SpliceBertConfig.from_pretrained(str(tmp_path))
    assert again.num_hidden_layers == 3 and again.classifier_dropout == 0.2
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "splicebert"


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"hidden_size": 100, "num_attention_heads": 16}, "multiple of num_attention_heads"),
        ({"vocab_size": 30522}, "vocab_size"),
        ({"hidden_dropout_prob": 1.5}, "hidden_dropout_prob"),
        ({"position_embedding_type": "relative_key"}, "absolute"),
        ({"hidden_act": "swish-ish"}, "hidden_act"),
        ({"max_position_embeddings": 2}, "max_position_embeddings"),
        ({"is_decoder": True}, "bidirectional"),
        ({"mask_token_id": 7}, "mask_token_id"),
        ({"num_hidden_layers": 0}, "num_hidden_layers"),
    ],
)
def test_invalid_values_are_rejected_with_the_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SpliceBertConfig(**kwargs)


def test_foreign_config_is_not_a_splicebert_checkpoint(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2", "vocab_size": 50257}))
    with pytest.raises(ValueError, match="not a SpliceBERT checkpoint"):
        SpliceBertConfig.from_pretrained(str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert", "vocab_size": 30522}))
    with pytest.raises(ValueError, match="vocab_size"):
        SpliceBertConfig.from_pretrained(str(tmp_path))
