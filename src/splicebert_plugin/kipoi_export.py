"""Generate ``kipoi_models/`` (Kipoi model packages over :mod:`kipoi_adapter`); a test checks drift.

One model group ``SpliceBERT`` with a model per released variant (weights: a local folder the
user fills with ``splicebert convert``) and one for the bundled demo model, sharing one set of
example files. Each folder's Python files are two-line shims with unique module names.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .model_cards import CITATION

MODELS = {
    # folder: (title, weights argument, window)
    "demo": ("splicebert-plugin demo model (a small model trained by this project; not the paper's weights)",
             "demo", 510),
    "SpliceBERT.510nt": ("SpliceBERT.510nt (the paper's zero-shot model)", "weights", 510),
    "SpliceBERT-human.510nt": ("SpliceBERT-human.510nt", "weights", 510),
    "SpliceBERT.1024nt": ("SpliceBERT.1024nt", "weights", 1024),
}
EXAMPLE_FILES = ("variants.vcf", "hg19_chr19_1-560000.fa", "hg19_chr19_1-560000.fa.fai", "genes.tsv")

_MODEL_SHIM = '''import numpy as np
from kipoi.model import BaseModel

from splicebert_plugin.kipoi_adapter import VariantEffectModel

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

from splicebert_plugin.kipoi_adapter import empty_batch, variant_samples


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


def _stem(folder: str) -> str:
    return "splicebert_" + folder.lower().replace(".", "_").replace("-", "_")


_ID_FIELDS = [
    ("variant_id", "()", "CHROM:POS:REF:ALT"),
    ("allele", "()", "ALT allele"),
    ("gene", "()", "gene symbol"),
    ("note", "()", "why not scored, or notes (OFF_CONTIG, PARTIAL_CONTEXT)"),
]
_INPUT_FIELDS = [
    ("wt", "(None,)", "WT window token ids ([CLS] + nucleotides + [SEP]), transcript strand"),
    ("mt", "(None,)", "MT window token ids"),
    ("scorable", "()", "1 if the sample can be scored, 0 if not (reason in note)"),
    ("v", "()", "window index of the variant"),
    ("ref_len", "()", "replaced reference nucleotides"),
    ("alt_len", "()", "inserted nucleotides"),
    ("donor", "()", "window index of the nearest exon's donor dinucleotide (-1 none)"),
    ("acceptor", "()", "window index of the nearest exon's acceptor dinucleotide (-1 none)"),
] + _ID_FIELDS
_SCORE_FIELDS = [
    ("KL_CONTEXT", "()", "KL-context score (nats, log-summed; NaN if not scored)"),
    ("MAX_KL", "()", "largest per-position KL within +-100 nt"),
    ("SPLICE_SITE_KL", "()", "donor + acceptor dinucleotide KL of the nearest exon"),
]


def _fields(fields, indent: int = 4) -> str:
    pad = " " * indent
    return "\n".join(f"{pad}{name}:\n{pad}  shape: {shape}\n{pad}  doc: {doc}" for name, shape, doc in fields)


def _model_yaml(folder: str, title: str, weights: str) -> str:
    stem = _stem(folder)
    weights_doc = (
        "'demo' = the bundled demo model" if weights == "demo"
        else f"folder with the converted {folder} weights: 'splicebert convert <released {folder}> <this folder>/weights'"
    )
    return f"""defined_as: {stem}_model.SpliceBertModel
args:
  weights: {weights}  # {weights_doc}
default_dataloader: .
info:
  authors:
    - name: Ken Chen (SpliceBERT)
    - name: splicebert-plugin developers (packaging)
  doc: >
    {title}. Zero-shot splicing variant effects: for every ALT allele x overlapping gene, the
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
{_fields(_INPUT_FIELDS)}
  targets:
{_fields(_SCORE_FIELDS + _ID_FIELDS)}
"""


def _dataloader_yaml(folder: str, window: int) -> str:
    stem = _stem(folder)
    return f"""type: SampleIterator
defined_as: {stem}_dataloader.SpliceBertVcfDataLoader
args:
  vcf_file:
    doc: VCF (.vcf, .vcf.gz, .bcf); every record yields one sample per ALT x overlapping gene
    example: ../example_files/variants.vcf
  fasta_file:
    doc: reference genome FASTA with a .fai index (plain or bgzip)
    example: ../example_files/hg19_chr19_1-560000.fa
  annotation_file:
    doc: GTF, GFF3 or SpliceAI annotation table
    example: ../example_files/genes.tsv
  window:
    doc: window width in nucleotides (default {window})
    optional: True
  mode:
    doc: "'variant' (variant-centred, default) or 'exon' (centred on the nearest exon)"
    optional: True
info:
  authors:
    - name: splicebert-plugin developers
  doc: VCF + FASTA + annotation -> SpliceBERT WT/MT windows (splicebert_plugin.kipoi_adapter)
dependencies:
  pip:
    - splicebert-plugin[vcf,kipoi]
output_schema:
  inputs:
    wt:
      shape: ({window + 2},)
      doc: WT window token ids
    mt:
      shape: ({window + 2},)
      doc: MT window token ids
    scorable: {{shape: (), doc: 1 if scorable}}
    v: {{shape: (), doc: variant index}}
    ref_len: {{shape: (), doc: replaced nucleotides}}
    alt_len: {{shape: (), doc: inserted nucleotides}}
    donor: {{shape: (), doc: donor index or -1}}
    acceptor: {{shape: (), doc: acceptor index or -1}}
    variant_id: {{shape: (), doc: CHROM:POS:REF:ALT}}
    allele: {{shape: (), doc: ALT allele}}
    gene: {{shape: (), doc: gene symbol}}
    note: {{shape: (), doc: reason or notes}}
  metadata:
    variant_id: {{type: str, doc: CHROM:POS:REF:ALT}}
    chrom: {{type: str, doc: contig}}
    pos: {{type: int, doc: 1-based position}}
    ref: {{type: str, doc: REF}}
    alt: {{type: str, doc: ALT allele}}
    gene: {{type: str, doc: gene}}
    strand: {{type: str, doc: gene strand}}
"""


def export_kipoi_models(out: str | Path) -> list[Path]:
    """Write ``out/SpliceBERT/<model>/`` folders and ``out/SpliceBERT/example_files``."""
    group = Path(out) / "SpliceBERT"
    examples = group / "example_files"
    examples.mkdir(parents=True, exist_ok=True)
    source = resources.files(__package__).joinpath("resources", "example")
    for name in EXAMPLE_FILES:
        (examples / name).write_bytes(source.joinpath(name).read_bytes())
    written = []
    for folder, (title, weights, window) in MODELS.items():
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
        "# SpliceBERT Kipoi models\n\nGenerated by `splicebert export-kipoi-models`; see the project README.\n\n"
        f"```bibtex\n{CITATION}\n```\n"
    )
    return written


def drifted_files(out: str | Path) -> list[str]:
    """Files under ``out`` that differ from a fresh export (missing, extra or changed)."""
    from .generated import drifted_files as drift

    return drift(out, export_kipoi_models)
