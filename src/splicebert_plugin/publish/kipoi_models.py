"""Generate ``kipoi_models/`` (Kipoi model packages over :mod:`kipoi_adapter`); a test checks drift.

One model group ``SpliceBERT`` with a model per released checkpoint (weights: the release name,
fetched once into the cache, or any checkpoint folder) and one for the bundled demo model. The YAML schemas
come from the one field table :data:`kipoi_adapter.FIELDS`; the releases from
:data:`releases.RELEASED_MODELS`. The dataloaders' example arguments point at the package's own
example files (``src/splicebert_plugin/resources/example``: no second copy), relative to each
model folder as Kipoi resolves them. Each folder's Python files are two-line shims with unique
module names.
"""

from __future__ import annotations

from pathlib import Path

from ..scoring.kipoi_adapter import fields
from ..checkpoints.model_cards import CITATION
from ..sources.releases import RELEASED_MODELS

DEMO = ("demo", "splicebert-plugin demo model (a small model trained by this project; not the paper's weights).")
#: the bundled example, seen from kipoi_models/SpliceBERT/<model>/
EXAMPLE = "../../../src/splicebert_plugin/resources/example"

_MODEL_SHIM = '''import numpy as np
from kipoi.model import BaseModel

from splicebert_plugin.scoring.kipoi_adapter import VariantEffectModel

# kipoi's .h5/.zarr writers still use aliases that numpy 2 removed
if not hasattr(np, "string_"):
    np.string_, np.unicode_ = np.bytes_, np.str_


class {cls}(BaseModel):
    def __init__(self, weights, batch_size=16):
        self.impl = VariantEffectModel(weights, batch_size=batch_size, folder=__file__)

    def predict_on_batch(self, x):
        return self.impl.predict_on_batch(x)
'''

_DATALOADER_SHIM = '''from kipoi.data import SampleIterator

from splicebert_plugin.scoring.kipoi_adapter import empty_batch, variant_samples


class {cls}(SampleIterator):
    def __init__(self, vcf_file, fasta_file, annotation_file, window={window}, mode="variant"):
        self._width = int(window)
        self._samples = variant_samples(vcf_file, fasta_file, annotation_file, width=self._width, mode=mode)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._samples)

    def batch_iter(self, batch_size=32, **kwargs):
        # an empty VCF still yields one (empty) batch, so the output file gets its header
        empty = True
        for batch in super().batch_iter(batch_size=batch_size, **kwargs):
            empty = False
            yield batch
        if empty:
            yield empty_batch(self._width)
'''


def models() -> list[tuple[str, str, str, int]]:
    """``(folder, title, weights argument, window)`` of every Kipoi model."""
    listed = [(DEMO[0], DEMO[1], "demo", 510)]
    for release in RELEASED_MODELS:
        listed.append((release.name, f"{release.name}: {release.summary}", release.name, release.nucleotides))
    return listed


def _stem(folder: str) -> str:
    return "splicebert_" + folder.lower().replace(".", "_").replace("-", "_")


def _shape(kind: str, window: int | None) -> str:
    if kind != "ids":
        return "()"
    return "(None,)" if window is None else f"({window + 2},)"


def _schema(role: str, window: int | None = None, indent: int = 4) -> str:
    pad = " " * indent
    return "\n".join(f"{pad}{f.name}:\n{pad}  shape: {_shape(f.kind, window)}\n{pad}  doc: {f.doc}"
                     for f in fields(role))


def _metadata_schema(indent: int = 4) -> str:
    pad = " " * indent
    return "\n".join(f"{pad}{f.name}:\n{pad}  type: {f.kind}\n{pad}  doc: {f.doc}" for f in fields("metadata"))


def _model_yaml(folder: str, title: str, weights: str) -> str:
    weights_doc = (
        "'demo' = the bundled demo model" if weights == "demo"
        else f"the release name: fetched once into the cache ('splicebert download {weights}'); or a checkpoint folder"
    )
    return f"""defined_as: {_stem(folder)}_model.SpliceBertModel
args:
  weights: {weights}  # {weights_doc}
default_dataloader: .
info:
  authors:
    - name: Ken Chen (SpliceBERT)
    - name: splicebert-plugin developers (packaging)
  doc: >
    {title} Zero-shot splicing variant effects: for every ALT allele x overlapping gene, the
    KL-context score (Chen et al. 2024: KL(MT||WT) of 4-nucleotide predictions, +-100 nt, sides
    averaged, floor 1e-6, log-summed; larger = more disruptive), the largest per-position KL in that
    context and the splice-site KL of the nearest exon. Same numbers as `splicebert score --table`.
  cite_as: https://doi.org/10.1093/bib/bbae163
  license: BSD-3-Clause
  tags:
    - RNA splicing
    - variant effect
dependencies:
  pip:
    - splicebert-plugin[vcf,kipoi]
schema:
  inputs:
{_schema("input")}
  targets:
{_schema("target")}
"""


def _dataloader_yaml(folder: str, window: int) -> str:
    return f"""type: SampleIterator
defined_as: {_stem(folder)}_dataloader.SpliceBertVcfDataLoader
args:
  vcf_file:
    doc: VCF (.vcf, .vcf.gz, .bcf); every record yields one sample per ALT x overlapping gene
    example: {EXAMPLE}/variants.vcf
  fasta_file:
    doc: reference genome FASTA with a .fai index (plain or bgzip)
    example: {EXAMPLE}/hg19_chr19_1-560000.fa
  annotation_file:
    doc: GTF, GFF3 or SpliceAI annotation table
    example: {EXAMPLE}/genes.tsv
  window:
    doc: window width in nucleotides (default {window})
    optional: True
  mode:
    doc: "'variant' (variant-centred, default) or 'exon' (centred on the nearest exon)"
    optional: True
info:
  authors:
    - name: splicebert-plugin developers
  doc: VCF + FASTA + annotation -> SpliceBERT WT/MT windows (splicebert_plugin.scoring.kipoi_adapter)
dependencies:
  pip:
    - splicebert-plugin[vcf,kipoi]
output_schema:
  inputs:
{_schema("input", window)}
  metadata:
{_metadata_schema()}
"""


def export_kipoi_models(out: str | Path) -> list[Path]:
    """Write ``out/SpliceBERT/<model>/`` folders and the group's README; returns the folders."""
    group = Path(out) / "SpliceBERT"
    written = []
    for folder, title, weights, window in models():
        target = group / folder
        target.mkdir(parents=True, exist_ok=True)
        stem = _stem(folder)
        (target / "model.yaml").write_text(_model_yaml(folder, title, weights))
        (target / "dataloader.yaml").write_text(_dataloader_yaml(folder, window))
        (target / f"{stem}_model.py").write_text(_MODEL_SHIM.format(cls="SpliceBertModel"))
        (target / f"{stem}_dataloader.py").write_text(_DATALOADER_SHIM.format(cls="SpliceBertVcfDataLoader",
                                                                             window=window))
        written.append(target)
    (group / "README.md").write_text(
        "# SpliceBERT Kipoi models\n\nGenerated by `python -m splicebert_plugin.publish kipoi-models`; see the project README. "
        "The example arguments point at the package's bundled example "
        f"(`{EXAMPLE.replace('../../../', '')}`), so run Kipoi from a clone of the repository.\n\n"
        f"```bibtex\n{CITATION}\n```\n"
    )
    return written


def drifted_files(out: str | Path) -> list[str]:
    """Files under ``out`` that differ from a fresh export (missing, extra or changed)."""
    from .drift import drifted_files as drift

    return drift(out, export_kipoi_models)
