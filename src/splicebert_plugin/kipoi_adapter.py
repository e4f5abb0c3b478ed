"""Adapters for the Kipoi packages in ``kipoi_models/`` (this module never imports kipoi).

The dataloader side turns a VCF + FASTA + annotation into one sample per ALT allele x
overlapping gene, with the same planning code as ``splicebert score`` (REF checked, unscorable
records kept with their reason); the model side runs the same probability and score code. So
``kipoi predict`` and ``splicebert score --table`` give the same rows.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from . import scoring, tokenization

OUTPUTS = ("KL_CONTEXT", "MAX_KL", "SPLICE_SITE_KL")


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
    from .io.annotation import read_annotation
    from .io.genome import Genome
    from .io.vcf import VcfReader

    genes = read_annotation(annotation_file)
    options = scoring.ScoringOptions(width=width, mode=mode)

    with Genome(fasta_file) as genome:
        planner = scoring.VariantScorer(None, genome, genes, options)
        reader = VcfReader(vcf_file)
        if reader.contigs:
            planner.check_vcf_contigs(reader.contigs, f"VCF {vcf_file}")
        empty = np.zeros(width + 2, dtype=np.int64)
        for record in reader:
            windows: dict = {}
            result, tasks = planner.plan(record, windows)
            by_entry = {id(task.result): task for task in tasks}
            variant_id = f"{record.chrom}:{record.pos}:{record.ref}:{','.join(record.alts)}"
            meta = {"variant_id": variant_id, "chrom": record.chrom, "pos": record.pos, "ref": record.ref}
            if result.reason is not None:
                for alt in record.alts:
                    yield _sample(empty, empty, None, {**meta, "alt": alt, "gene": "", "strand": "", "note": result.reason})
                continue
            for entry in result.alleles:
                task = by_entry.get(id(entry))
                info = {**meta, "alt": entry.allele, "gene": entry.gene, "strand": entry.strand, "note": entry.note}
                if task is None:
                    yield _sample(empty, empty, None, info)
                else:
                    wt = tokenization.encode(windows[task.wt_key])
                    mt = tokenization.encode(task.mt)
                    yield _sample(wt, mt, task, info)


def empty_batch(width: int = 510) -> dict:
    """A batch of zero samples with the right fields (so that writers emit a header, no rows)."""
    ints = ("scorable", "v", "ref_len", "alt_len", "donor", "acceptor")
    inputs = {"wt": np.zeros((0, width + 2), dtype=np.int64), "mt": np.zeros((0, width + 2), dtype=np.int64)}
    inputs.update({name: np.zeros(0, dtype=np.int64) for name in ints})
    inputs.update({name: np.zeros(0, dtype=str) for name in ("variant_id", "allele", "gene", "note")})
    metadata = {name: np.zeros(0, dtype=str) for name in ("variant_id", "chrom", "ref", "alt", "gene", "strand")}
    metadata["pos"] = np.zeros(0, dtype=np.int64)
    return {"inputs": inputs, "metadata": metadata}


def _sample(wt, mt, task, info: dict) -> dict:
    inputs = {
        "wt": wt,
        "mt": mt,
        "scorable": np.int64(task is not None),
        "v": np.int64(task.v if task else 0),
        "ref_len": np.int64(task.ref_len if task else 0),
        "alt_len": np.int64(task.alt_len if task else 0),
        "donor": np.int64(task.donor if task and task.donor is not None else -1),
        "acceptor": np.int64(task.acceptor if task and task.acceptor is not None else -1),
        "variant_id": info["variant_id"],
        "allele": info["alt"],
        "gene": info["gene"],
        "note": info["note"],
    }
    return {"inputs": inputs, "metadata": {k: info[k] for k in ("variant_id", "chrom", "pos", "ref", "alt", "gene", "strand")}}


class VariantEffectModel:
    """Scores batches of :func:`variant_samples` inputs with a SpliceBERT masked-LM model."""

    def __init__(self, weights: str | None = "demo", batch_size: int = 16, folder: str | None = None):
        """``weights``: ``"demo"``, a checkpoint folder, or a path relative to the Kipoi model
        ``folder`` (the shim passes its ``__file__``)."""
        from pathlib import Path

        from .checkpoints import CheckpointError
        from .score_vcf import resolve_model

        if weights not in (None, "demo") and folder is not None and not Path(weights).is_absolute():
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
        out = {name: np.full(n, np.nan) for name in OUTPUTS}
        rows = [i for i in range(n) if int(inputs["scorable"][i])]
        if rows:
            p_wt = self.runner.nucleotide_probabilities_of_ids(np.asarray(inputs["wt"])[rows])
            p_mt = self.runner.nucleotide_probabilities_of_ids(np.asarray(inputs["mt"])[rows])
            for k, i in enumerate(rows):
                donor, acceptor = int(inputs["donor"][i]), int(inputs["acceptor"][i])
                scores, _ = scoring.score_pair(
                    p_wt[k], p_mt[k], int(inputs["v"][i]), int(inputs["ref_len"][i]), int(inputs["alt_len"][i]),
                    donor=None if donor < 0 else donor, acceptor=None if acceptor < 0 else acceptor,
                )
                for name in OUTPUTS:
                    out[name][i] = scores[name]
        for name in ("variant_id", "allele", "gene", "note"):
            out[name] = np.asarray([str(x) for x in inputs[name]])
        return out
