"""Adapters for the Kipoi packages in ``kipoi_models/`` (this module never imports kipoi).

The dataloader side turns a VCF + FASTA + annotation into one sample per ALT allele x
overlapping gene, with the same planning code as ``splicebert score`` (REF checked, unscorable
records kept with their reason); the model side runs the same probability and score code. So
``kipoi predict`` and ``splicebert score --table`` give the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..splicebert import tokenization
from . import passes as scoring
from .plan import PARTIAL_CONTEXT, Pair, Planner

@dataclass(frozen=True)
class Field:
    """One named array of the Kipoi interface. ``kind``: ``ids`` (token ids, one row per
    sample), ``int``, ``float`` or ``str``; ``roles``: where it appears (``input`` of the model
    = the dataloader's output, ``target`` = the model's prediction, ``metadata``)."""

    name: str
    kind: str
    doc: str
    roles: tuple[str, ...]


#: The one table of the Kipoi fields: the adapters below and the YAML of ``kipoi_export`` use it.
FIELDS: tuple[Field, ...] = (
    Field("wt", "ids", "WT window token ids ([CLS] + nucleotides + [SEP]), transcript strand", ("input",)),
    Field("mt", "ids", "MT window token ids", ("input",)),
    Field("scorable", "int", "1 if the sample can be scored, 0 if not (reason in note)", ("input",)),
    Field("v", "int", "window index of the variant", ("input",)),
    Field("ref_len", "int", "replaced reference nucleotides", ("input",)),
    Field("alt_len", "int", "inserted nucleotides", ("input",)),
    Field("donor", "int", "window index of the nearest exon's donor dinucleotide (-1 none)", ("input",)),
    Field("acceptor", "int", "window index of the nearest exon's acceptor dinucleotide (-1 none)", ("input",)),
    Field("KL_CONTEXT", "float", "KL-context score (nats, log-summed; NaN if not scored)", ("target",)),
    Field("MAX_KL", "float", "largest per-position KL within +-100 nt", ("target",)),
    Field("SPLICE_SITE_KL", "float", "donor + acceptor dinucleotide KL of the nearest exon", ("target",)),
    Field("variant_id", "str", "CHROM:POS:REF:ALT", ("input", "target", "metadata")),
    Field("allele", "str", "ALT allele", ("input", "target")),
    Field("gene", "str", "gene symbol", ("input", "target", "metadata")),
    Field("note", "str", "why not scored, or notes (OFF_CONTIG, PARTIAL_CONTEXT)", ("input", "target")),
    Field("chrom", "str", "contig", ("metadata",)),
    Field("pos", "int", "1-based position", ("metadata",)),
    Field("ref", "str", "REF", ("metadata",)),
    Field("alt", "str", "ALT allele", ("metadata",)),
    Field("strand", "str", "gene strand", ("metadata",)),
)


def fields(role: str) -> tuple[Field, ...]:
    return tuple(f for f in FIELDS if role in f.roles)


#: the scores the model side computes
OUTPUTS = tuple(f.name for f in fields("target") if f.kind == "float")


def variant_samples(
    vcf_file: str,
    fasta_file: str,
    annotation_file: str,
    *,
    width: int = 510,
    mode: str = "variant",
) -> Iterator[dict]:
    """Kipoi samples: ``{"inputs": {...}, "metadata": {...}}`` per ALT allele x gene.

    Records that cannot be scored give one sample per ALT with ``scorable = 0`` and the reason in
    ``note`` (never dropped). ``inputs`` hold the WT and MT token ids (``width + 2``), the event
    index and lengths, the splice-site indices (-1: none) and the identifying strings.
    """
    from ..io.annotation import read_annotation
    from ..sources.gencode import annotation_file as builtin_or_path
    from ..io.genome import Genome
    from ..io.vcf import VcfReader

    genes = read_annotation(builtin_or_path(annotation_file))
    with Genome(fasta_file) as genome:
        planner = Planner(genome, genes, width=width, mode=mode)
        reader = VcfReader(vcf_file)
        if reader.contigs:
            planner.check_vcf_contigs(reader.contigs, f"VCF {vcf_file}")
        empty = np.zeros(width + 2, dtype=np.int64)
        for record in reader:
            plan = planner.plan(record)
            variant_id = f"{record.chrom}:{record.pos}:{record.ref}:{','.join(record.alts)}"
            meta = {"variant_id": variant_id, "chrom": record.chrom, "pos": record.pos, "ref": record.ref}
            if plan.reason is not None:
                for alt in record.alts:
                    yield _sample(empty, empty, None, {**meta, "alt": alt, "gene": "", "strand": "", "note": plan.reason})
                continue
            for item in plan.items:
                info = {**meta, "alt": item.allele, "gene": item.gene, "strand": item.strand}
                if isinstance(item, Pair):
                    yield _sample(tokenization.encode(item.wt), tokenization.encode(item.mt), item,
                                  {**info, "note": "&".join(item.notes)})
                else:
                    yield _sample(empty, empty, None, {**info, "note": item.reason})


def empty_batch(width: int = 510) -> dict:
    """A batch of zero samples with the right fields (so that writers emit a header, no rows)."""

    def empty(field: Field):
        shape = (0, width + 2) if field.kind == "ids" else (0,)
        return np.zeros(shape, dtype={"ids": np.int64, "int": np.int64, "float": np.float64, "str": str}[field.kind])

    return {"inputs": {f.name: empty(f) for f in fields("input")},
            "metadata": {f.name: empty(f) for f in fields("metadata")}}


def _sample(wt, mt, pair: Pair | None, info: dict) -> dict:
    values = {
        "wt": wt,
        "mt": mt,
        "scorable": np.int64(pair is not None),
        "v": np.int64(pair.v if pair else 0),
        "ref_len": np.int64(pair.ref_len if pair else 0),
        "alt_len": np.int64(pair.alt_len if pair else 0),
        "donor": np.int64(pair.donor if pair and pair.donor is not None else -1),
        "acceptor": np.int64(pair.acceptor if pair and pair.acceptor is not None else -1),
        "allele": info["alt"],
        **info,
    }
    return {"inputs": {f.name: values[f.name] for f in fields("input")},
            "metadata": {f.name: values[f.name] for f in fields("metadata")}}


class VariantEffectModel:
    """Scores batches of :func:`variant_samples` inputs with a SpliceBERT masked-LM model."""

    def __init__(self, weights: str | None = "demo", batch_size: int = 16, folder: str | None = None):
        """``weights``: ``"demo"``, a release name (fetched once into the cache), a checkpoint
        folder, or a path relative to the Kipoi model ``folder`` (the shim passes its ``__file__``)."""
        from pathlib import Path

        from ..checkpoints.folders import CheckpointError
        from ..checkpoints.resolve import resolve_model
        from ..sources.releases import find_release

        if weights not in (None, "demo") and find_release(weights) is None and folder is not None \
                and not Path(weights).is_absolute():
            base = Path(folder)
            weights = str((base.parent if base.is_file() else base) / weights)
            if not Path(weights).is_dir():
                raise CheckpointError(
                    f"no SpliceBERT weights at {weights}: convert the released checkpoint there with "
                    f"'splicebert convert path/to/released/model {weights}', or pass "
                    "--model_args '{\"weights\": \"/path/to/converted\"}'"
                )
        self.model, self.label = resolve_model(weights)
        self.runner = scoring.ProbabilityModel(self.model, batch_size)

    def predict_on_batch(self, inputs: dict) -> dict:
        """Named outputs per sample: the scores (NaN if not scorable) and the identifying fields."""
        n = len(inputs["scorable"])
        out = {f.name: np.full(n, np.nan) for f in fields("target") if f.kind == "float"}
        rows = [i for i in range(n) if int(inputs["scorable"][i])]
        notes = [str(x) for x in inputs["note"]]
        if rows:
            p_wt = self.runner.nucleotide_probabilities_of_ids(np.asarray(inputs["wt"])[rows])
            p_mt = self.runner.nucleotide_probabilities_of_ids(np.asarray(inputs["mt"])[rows])
            for k, i in enumerate(rows):
                donor, acceptor = int(inputs["donor"][i]), int(inputs["acceptor"][i])
                scores, incomplete = scoring.score_pair(
                    p_wt[k], p_mt[k], int(inputs["v"][i]), int(inputs["ref_len"][i]), int(inputs["alt_len"][i]),
                    donor=None if donor < 0 else donor, acceptor=None if acceptor < 0 else acceptor,
                )
                for name in OUTPUTS:
                    out[name][i] = scores[name]
                if incomplete:
                    notes[i] = "&".join(filter(None, (notes[i], PARTIAL_CONTEXT)))
        for field in fields("target"):
            if field.kind == "str" and field.name != "note":
                out[field.name] = np.asarray([str(x) for x in inputs[field.name]])
        out["note"] = np.asarray(notes)
        return out
