"""The Kipoi adapters (no kipoi needed): samples + model give the `splicebert score` table."""

import math

import numpy as np
import pytest

from splicebert_plugin.publish.kipoi_models import models
from splicebert_plugin.scoring.kipoi_adapter import VariantEffectModel, variant_samples
from splicebert_plugin.scoring.vcf_job import score_vcf_frame

from .conftest import FASTA, GENES, REPO, VCF


def collate(samples):
    return {key: np.stack([s["inputs"][key] for s in samples]) for key in samples[0]["inputs"]}


def test_adapter_rows_equal_the_score_table(tiny_510):
    samples = list(variant_samples(str(VCF), str(FASTA), str(GENES)))
    model = VariantEffectModel(str(tiny_510))
    outputs = {}
    for begin in range(0, len(samples), 5):  # batches of 5, as kipoi would
        batch = model.predict_on_batch(collate(samples[begin : begin + 5]))
        for key, values in batch.items():
            outputs.setdefault(key, []).extend(values.tolist())
    table = score_vcf_frame(model.model, str(VCF), str(FASTA), str(GENES))
    assert len(samples) == len(table) == 13  # every ALT x gene, unscorable records included
    for key, values in outputs.items():
        assert len(values) == len(table), key
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
    from splicebert_plugin.publish.kipoi_models import drifted_files

    assert drifted_files(REPO / "kipoi_models") == []


def test_kipoi_examples_are_the_package_example():
    """The dataloaders' example arguments resolve (from each model folder, as Kipoi does) to the
    bundled example files: no second copy in kipoi_models/."""
    import yaml

    from splicebert_plugin.publish.kipoi_models import models

    for folder, *_ in models():
        model_dir = REPO / "kipoi_models/SpliceBERT" / folder
        spec = yaml.safe_load((model_dir / "dataloader.yaml").read_text())
        for arg, expected in (("vcf_file", VCF), ("fasta_file", FASTA), ("annotation_file", GENES)):
            assert (model_dir / spec["args"][arg]["example"]).resolve() == expected.resolve()
    assert not list((REPO / "kipoi_models").rglob("*.fa"))


def test_kipoi_yaml_declares_what_the_adapter_produces():
    """The committed YAML against what the dataloader and model really yield on the example (not
    against the generator's own field table): the same names, in order, with the declared shapes."""
    import yaml

    for folder, _, _, window in models():
        model_dir = REPO / "kipoi_models/SpliceBERT" / folder
        spec = yaml.safe_load((model_dir / "dataloader.yaml").read_text())
        declared = yaml.safe_load((model_dir / "model.yaml").read_text())
        samples = list(variant_samples(str(VCF), str(FASTA), str(GENES), width=window))[:3]
        inputs = collate(samples)
        assert list(spec["output_schema"]["inputs"]) == list(inputs)
        assert list(spec["output_schema"]["metadata"]) == list(samples[0]["metadata"])
        for name, field in spec["output_schema"]["inputs"].items():
            shape = tuple(int(x) for x in str(field.get("shape", "()")).strip("()").split(",") if x.strip())
            assert tuple(inputs[name].shape[1:]) == shape, (folder, name)
        if folder == "demo":
            assert list(declared["schema"]["targets"]) == list(VariantEffectModel("demo").predict_on_batch(inputs))


def test_missing_released_weights_say_how_to_get_them(tmp_path):
    from splicebert_plugin.checkpoints import CheckpointError

    shim = tmp_path / "model.py"
    shim.write_text("")
    with pytest.raises(CheckpointError, match="splicebert convert"):
        VariantEffectModel("weights", folder=str(shim))


def test_the_library_never_imports_kipoi():
    import subprocess
    import sys

    code = ("import sys, splicebert_plugin, splicebert_plugin.scoring.kipoi_adapter, splicebert_plugin.scoring.vcf_job, "
            "splicebert_plugin.analysis, splicebert_plugin.analysis.embed_job, splicebert_plugin.analysis.attention_job, "
            "splicebert_plugin.analysis.evaluate_job, splicebert_plugin.checkpoints.resolve, "
            "splicebert_plugin.cli.main; assert 'kipoi' not in sys.modules and 'splicebert_plugin.training' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
