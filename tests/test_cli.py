import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from splicebert_plugin.cli.main import main
from splicebert_plugin.checkpoints import load_masked_lm
from splicebert_plugin.splicebert.inference import fill_mask

from .conftest import cli_error


def test_example_runs_end_to_end(capsys):
    assert main(["example", "--positions", "255,256"]) == 0
    out = capsys.readouterr().out
    assert "RANDOM weights" in out  # the demo says what it is
    rows = [line.split("\t") for line in out.splitlines() if line[:1].isdigit()]
    assert [row[0] for row in rows] == ["255", "256"]
    assert [row[1] for row in rows] == ["G", "T"]  # the bundled window's donor GT
    for row in rows:
        assert abs(sum(float(x) for x in row[2:6]) - 1) < 1e-3
    assert "max abs difference 0.0e+00" in out


def test_convert_and_fill_mask_commands(tiny_510, tmp_path, capsys):
    dst = tmp_path / "hf"
    assert main(["convert", str(tiny_510), str(dst)]) == 0
    assert json.loads((dst / "config.json").read_text())["model_type"] == "splicebert"
    capsys.readouterr()
    assert main(["fill-mask", "-m", str(dst), "--sequence", "ACGTACGTAC", "--positions", "2,5"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "position\tref\tP(A)\tP(C)\tP(G)\tP(T)\tpredicted"
    rows = [line.split("\t") for line in out[2:]]
    assert [row[:2] for row in rows] == [["2", "G"], ["5", "C"]]
    expected = fill_mask(load_masked_lm(dst), "ACGTACGTAC", [2, 5])
    for row, probs in zip(rows, expected, strict=True):
        assert [float(x) for x in row[2:6]] == pytest.approx(probs.tolist(), abs=1e-4)
        assert row[6] == "ACGT"[int(probs.argmax())]


def test_fill_mask_equals_manual_bert_computation(tiny_510):
    from transformers import BertForMaskedLM

    reference_bert_510 = BertForMaskedLM.from_pretrained(str(tiny_510), attn_implementation="eager").eval()
    sequence = "ACGTTGCAAGGCTTAGCATG" * 5
    positions = [0, 37, 99]
    got = fill_mask(reference_bert_510, sequence, positions)  # works on transformers' BERT too
    ids = torch.tensor([[2] + ["NACGT".index(c) + 5 for c in sequence] + [3]])
    for row, position in enumerate(positions):
        masked = ids.clone()
        masked[0, position + 1] = 4
        with torch.no_grad():
            logits = reference_bert_510(masked).logits[0, position + 1, 6:10]
        np.testing.assert_allclose(got[row], torch.softmax(logits, -1).numpy(), atol=1e-6)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["convert", "/no/such/folder", "/tmp/out"], "does not exist"),
        (["fill-mask", "-m", "/no/such/folder"], "does not exist"),
        (["example", "--sequence", "ACGTX"], "not nucleotide codes"),
        (["example", "--positions", "a,b"], "comma-separated"),
        (["example", "--fasta", "/no/such.fa"], "does not exist"),
    ],
)
def test_bad_input_gives_one_line_error_and_status_2(argv, message, capsys):
    assert message in cli_error(argv, capsys)


def test_fill_mask_position_outside_sequence(tiny_510, capsys):
    err = cli_error(["fill-mask", "-m", str(tiny_510), "--sequence", "ACGT", "--positions", "9"], capsys)
    assert "outside the sequence" in err


@pytest.mark.slow
def test_python_dash_m_is_the_same_command():
    result = subprocess.run([sys.executable, "-m", "splicebert_plugin", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and "splicebert-plugin" in result.stdout
