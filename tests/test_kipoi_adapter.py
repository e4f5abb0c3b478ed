"""The Kipoi adapters (no kipoi needed): samples + model give the `splicebert score` table."""

import math

import numpy as np
import pytest

from splicebert_plugin.kipoi_adapter import VariantEffectModel, variant_samples
from splicebert_plugin.score_vcf import score_vcf_frame

from .test_scoring import FASTA, GENES, VCF


def collate(samples):
    return {key: np.stack([s["inputs"][key] for s in samples]) for key in samples[0]["inputs"]}


def test_adapter_rows_equal_the_score_table(original_510):
    samples = list(variant_samples(str(VCF), str(FASTA), str(GENES)))
    model = VariantEffectModel(str(original_510))
    outputs = {}
    for begin in range(0, len(samples), 5):  # batches of 5, as kipoi would
        batch = model.predict_on_batch(collate(samples[begin : begin + 5]))
        for key, values in batch.items():
            outputs.setdefault(key, []).extend(values.tolist())
    table = score_vcf_frame(model.model, str(VCF), str(FASTA), str(GENES))
    assert len(samples) == len(table) == 13  # every ALT x gene, unscorable records included
    for i, row in table.iterrows():
        assert outputs["allele"][i] == row["ALT"] and outputs["gene"][i] == row["GENE"]
        assert outputs["note"][i] == row["NOTE"]
        assert outputs["variant_id"][i].startswith(f"{row['CHROM']}:{row['POS']}:")
        for name in ("KL_CONTEXT", "MAX_KL", "SPLICE_SITE_KL"):
            if math.isnan(row[name]):
                assert math.isnan(outputs[name][i])
            else:
                assert outputs[name][i] == pytest.approx(row[name], abs=1e-6)


def test_empty_vcf_gives_no_samples(tmp_path):
    vcf = tmp_path / "empty.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    assert list(variant_samples(str(vcf), str(FASTA), str(GENES))) == []


def test_kipoi_models_match_a_fresh_export():
    from pathlib import Path

    from splicebert_plugin.kipoi_export import drifted_files

    assert drifted_files(Path(__file__).resolve().parents[1] / "kipoi_models") == []


def test_missing_released_weights_say_how_to_get_them(tmp_path):
    from splicebert_plugin.checkpoints import CheckpointError

    shim = tmp_path / "model.py"
    shim.write_text("")
    with pytest.raises(CheckpointError, match="splicebert convert"):
        VariantEffectModel("weights", folder=str(shim))


def test_the_library_never_imports_kipoi():
    import subprocess
    import sys

    code = ("import sys, splicebert_plugin, splicebert_plugin.kipoi_adapter, splicebert_plugin.score_vcf, "
            "splicebert_plugin.cli; assert 'kipoi' not in sys.modules and 'splicebert_plugin.training' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
