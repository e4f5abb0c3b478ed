"""`kipoi test` / `kipoi predict` on the demo model (command line, --source dir, no conda).

Kipoi pins old dependencies (attrs <= 21.4), so it lives in its own environment: .ci/run builds
one and points SPLICEBERT_KIPOI at its `kipoi` executable. Without it these tests are skipped.
"""

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from splicebert_plugin import DEMO_MODEL
from splicebert_plugin.cli.main import main

from .conftest import FASTA, GENES, REPO, VCF

KIPOI = os.environ.get("SPLICEBERT_KIPOI") or shutil.which("kipoi")
MODEL = REPO / "kipoi_models/SpliceBERT/demo"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(KIPOI is None, reason="no kipoi environment (set SPLICEBERT_KIPOI)")]


def kipoi(args, home):
    env = {**os.environ, "HOME": str(home)}
    return subprocess.run([KIPOI, *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=900)


def loader_args(vcf=VCF):
    return json.dumps({"vcf_file": str(vcf), "fasta_file": str(FASTA), "annotation_file": str(GENES)})


def test_kipoi_test_passes_offline(tmp_path):
    result = kipoi(["test", str(MODEL), "--source", "dir"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Successfully ran test_predict" in result.stdout + result.stderr


def test_kipoi_predict_equals_the_score_table(tmp_path):
    assert Path(DEMO_MODEL, "config.json").is_file()
    outputs = {}
    for ext in ("tsv", "parquet", "h5"):
        result = kipoi(["predict", str(MODEL), "--source", "dir", "--dataloader_args", loader_args(),
                        "-o", str(tmp_path / f"kipoi.{ext}")], tmp_path)
        assert result.returncode == 0, result.stderr[-3000:]
        outputs[ext] = tmp_path / f"kipoi.{ext}"
    assert main(["score", "--example", "-q", "-O", str(tmp_path / "o.vcf"), "--table", str(tmp_path / "t.tsv")]) == 0
    ours = pd.read_csv(tmp_path / "t.tsv", sep="\t", keep_default_na=False, na_values=[""])
    theirs = pd.read_csv(outputs["tsv"], sep="\t", keep_default_na=False, na_values=[""])
    assert len(ours) == len(theirs) == 13
    for (_, a), (_, b) in zip(ours.iterrows(), theirs.iterrows(), strict=True):
        assert b["preds/variant_id"] == f"{a['CHROM']}:{a['POS']}:{a['REF']}:{b['preds/variant_id'].split(':')[3]}"
        assert (b["preds/allele"], str(b["preds/gene"]) if b["preds/gene"] == b["preds/gene"] else "") == \
            (a["ALT"], a["GENE"] if a["GENE"] == a["GENE"] else "")
        for name in ("KL_CONTEXT", "MAX_KL", "SPLICE_SITE_KL"):
            x, y = a[name], b[f"preds/{name}"]
            assert (math.isnan(x) and math.isnan(y)) or abs(x - y) <= 1e-6, (name, x, y)
    parquet = pd.read_parquet(outputs["parquet"])
    assert len(parquet) == 13
    assert outputs["h5"].stat().st_size > 0


def test_kipoi_bad_arguments(tmp_path):
    missing = json.loads(loader_args())
    missing["vcf_file"] = str(tmp_path / "missing.vcf")
    result = kipoi(["predict", str(MODEL), "--source", "dir", "--dataloader_args", json.dumps(missing),
                    "-o", str(tmp_path / "x.tsv")], tmp_path)
    assert result.returncode != 0 and "missing.vcf does not exist" in result.stderr
    mouse = tmp_path / "mouse.vcf"
    mouse.write_text("##fileformat=VCFv4.2\n##contig=<ID=NC_000067.6>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                     "NC_000067.6\t100\t.\tA\tG\t.\t.\t.\n")
    result = kipoi(["predict", str(MODEL), "--source", "dir", "--dataloader_args", loader_args(mouse),
                    "-o", str(tmp_path / "y.tsv")], tmp_path)
    assert result.returncode != 0 and "NC_000067.6" in result.stderr and "chr19" in result.stderr


def test_kipoi_empty_vcf_gives_an_empty_well_formed_table(tmp_path):
    empty = tmp_path / "empty.vcf"
    empty.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    out = tmp_path / "empty.tsv"
    result = kipoi(["predict", str(MODEL), "--source", "dir", "--dataloader_args", loader_args(empty),
                    "-o", str(out)], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = out.read_text().splitlines()
    assert len(lines) == 1 and "preds/KL_CONTEXT" in lines[0] and "preds/variant_id" in lines[0]
