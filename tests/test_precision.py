"""Precision modes of the model passes: the int8 layer against a hand computation, the bf16 head in
float32, batch independence, the model given never changed, clear refusals, the CLI end to end."""

import numpy as np
import pytest
import torch
from torch import nn

from splicebert_plugin.errors import UserError
from splicebert_plugin.scoring.passes import ProbabilityModel, ScoringOptions
from splicebert_plugin.scoring.precision import (Int8Linear, check_precision, forward_logits, int8_layer_names,
                                                 prepare_model)

from .conftest import FASTA, random_ids, read_fasta_text


@pytest.fixture(scope="module")
def tiny_model(tiny_510):
    from splicebert_plugin.checkpoints import load_masked_lm

    return load_masked_lm(tiny_510).eval()


def test_int8_linear_equals_a_hand_computation():
    torch.manual_seed(0)
    linear = nn.Linear(24, 10)
    x = torch.randn(3, 700, 24)  # more rows than one block of the layer
    weight, bias, rows = linear.weight.detach().numpy(), linear.bias.detach().numpy(), x.reshape(-1, 24).numpy()
    w_scale = np.abs(weight).max(axis=1) / 127.0
    w_int = np.round(weight / w_scale[:, None]).astype(np.int64)
    a_scale = np.abs(rows).max(axis=1, keepdims=True) / 127.0
    a_int = np.round(rows / a_scale).astype(np.int64)
    expected = (a_int @ w_int.T) * a_scale * w_scale + bias
    with torch.inference_mode():
        got = Int8Linear(linear)(x)
    assert got.shape == (3, 700, 10)
    np.testing.assert_allclose(got.reshape(-1, 10).numpy(), expected, rtol=1e-5, atol=1e-5)
    exact = linear(x).detach()
    assert (got - exact).abs().max() < 0.02 * exact.abs().max()  # int8: close, not equal
    assert not torch.equal(got, exact)


def test_int8_prepares_a_copy_and_quantises_the_encoder_layers(tiny_model):
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    quantised = prepare_model(tiny_model, "int8")
    layers = tiny_model.config.num_hidden_layers
    expected = {f"bert.encoder.layer.{i}.{name}" for i in range(layers)
                for name in ("attention.output.dense", "intermediate.dense", "output.dense")}
    assert int8_layer_names(tiny_model) == expected
    assert all(isinstance(quantised.get_submodule(n), Int8Linear) for n in expected)
    assert all(type(tiny_model.get_submodule(n)) is nn.Linear for n in expected)  # the original is untouched
    assert all(torch.equal(before[k], v) for k, v in tiny_model.state_dict().items())
    assert type(quantised.bert.encoder.layer[0].attention.self.query) is nn.Linear  # fused QKV stays fp32
    assert prepare_model(tiny_model, "fp32") is tiny_model


def test_each_sequence_scores_the_same_alone_or_in_a_batch(tiny_model):
    """int8 activations are scaled per token: a window's probabilities never depend on its batch
    mates (PyTorch's quantize_dynamic scales the whole batch)."""
    ids = random_ids(5, 510, seed=3).numpy()
    for precision in ("int8", "bf16"):
        runner = ProbabilityModel(tiny_model, batch_size=5, precision=precision)
        together = runner.nucleotide_probabilities_of_ids(ids)
        alone = np.concatenate([runner.nucleotide_probabilities_of_ids(ids[i : i + 1]) for i in range(5)])
        if precision == "int8":
            assert np.array_equal(together, alone)
        else:  # bf16 kernels may block differently by batch size; the values stay close
            assert np.abs(together - alone).max() < 1e-2


def test_bf16_keeps_the_head_and_logits_in_float32(tiny_model):
    ids = random_ids(2, 510, seed=4)
    with torch.inference_mode():
        logits = forward_logits(tiny_model, ids, "bf16")
        with torch.autocast("cpu", dtype=torch.bfloat16):
            hidden = tiny_model.bert(input_ids=ids).last_hidden_state
            rounded = tiny_model(input_ids=ids).logits  # the whole model under autocast: bf16 logits
        head = tiny_model.cls(hidden.float())
        exact = tiny_model(input_ids=ids).logits
    assert logits.dtype == torch.float32 and rounded.dtype == torch.bfloat16
    assert torch.equal(logits, head)
    assert not torch.equal(logits, logits.bfloat16().float())  # not rounded to bf16
    assert torch.equal(forward_logits(tiny_model, ids, "fp32"), exact)


def test_precision_refusals():
    with pytest.raises(UserError, match="precision 'fp16' is unknown; choose one of fp32, bf16, int8"):
        ScoringOptions(precision="fp16")
    with pytest.raises(UserError, match="int8 runs on the CPU only"):
        check_precision("int8", "cuda")
    check_precision("bf16", "cuda")  # allowed: autocast on the GPU


def test_ism_in_bf16_and_int8_follows_fp32_on_a_trained_model():
    """The bundled (trained) demo model on real sequence: the modes differ from fp32 but keep its
    order (random-weight models are far more sensitive: benchmarks/bench_precision.py)."""
    from splicebert_plugin.analysis.ism import in_silico_mutagenesis
    from splicebert_plugin.checkpoints.resolve import resolve_model

    model, _ = resolve_model("demo", device="cpu")
    sequence = read_fasta_text(FASTA)[111000:111560]  # OR4F17's last exon and beyond
    runs = {p: in_silico_mutagenesis(model, sequence, 250, 262, width=510, precision=p).kl_context.ravel()
            for p in ("fp32", "bf16", "int8")}
    keep = ~np.isnan(runs["fp32"])
    assert keep.sum() == 36
    for precision in ("bf16", "int8"):
        assert not np.array_equal(runs[precision][keep], runs["fp32"][keep])
        assert np.corrcoef(runs[precision][keep], runs["fp32"][keep])[0, 1] > 0.99


def test_score_cli_precision_header_and_refusal(tmp_path, capsys):
    from splicebert_plugin.cli.main import main

    for precision in ("fp32", "int8"):
        out = tmp_path / f"{precision}.vcf"
        assert main(["score", "--example", "-q", "--precision", precision, "-O", str(out)]) == 0
        header = [line.strip() for line in open(out) if line.startswith("##SpliceBERT_precision")]
        assert header == [f"##SpliceBERT_precision={precision}"]
    lines = {p: [line for line in open(tmp_path / f"{p}.vcf") if not line.startswith("#")] for p in ("fp32", "int8")}
    assert len(lines["fp32"]) == len(lines["int8"]) == 12
    assert [line.split("\t")[:5] for line in lines["fp32"]] == [line.split("\t")[:5] for line in lines["int8"]]
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main(["score", "--example", "--precision", "fp16", "-O", str(tmp_path / "x.vcf")])
    assert stop.value.code == 2 and "invalid choice: 'fp16'" in capsys.readouterr().err
