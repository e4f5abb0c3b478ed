"""Fine-tuning on whole sequences of a genome: promoter cores and TFBS peaks (``docs/genebert.md``).

Both run the cross-validation loop of :mod:`.finetune` (same training, early stopping, outputs)
from either model family (GeneBERT folders become k-mers; SpliceBERT models see nucleotides).

- Promoters: 70-nt TSS windows against one negative set (``genomic``: GC-matched windows 2 kb
  from any TSS, the honest set; ``deepromoter``: DNABERT's Prom-core negatives), folds = whole
  contigs (leave one contig out; the next contig validates). The summary's baseline is a
  logistic regression on composition (GC, CpG observed/expected, CpG density) fitted on the same
  training folds.
- TFBS: the central ``width`` nt of each peak of a BED file against a dinucleotide shuffle of
  it (Altschul-Erickson), folds = whole contigs; baseline: the 3-mer spectrum regression (a
  shuffle keeps dinucleotides, so composition alone says little). A pipeline for user peak
  files; no number is claimed for it here.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..config import ConfigError
from .engine import FinetuneConfig, Group, binary_task, fold_of_each, labelled_dataset, model_family, run_task
from ...errors import UserError


@dataclass(frozen=True, kw_only=True)
class _ContigTaskConfig(FinetuneConfig):
    """Defaults of the leave-one-contig-out tasks."""

    genome: str
    batch_size: int = 32
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    folds: int = 0  # 0 = one fold per contig
    max_epochs: int = 20
    patience: int = 5
    plateau_patience: int = 2

    def __post_init__(self):
        super().__post_init__()
        if self.folds in (1, 2) or self.folds < 0:
            raise ConfigError(f"folds must be 0 (one per contig) or >= 3, got {self.folds}")


@dataclass(frozen=True, kw_only=True)
class PromoterConfig(_ContigTaskConfig):
    annotation: str
    negatives: str = "genomic"
    negatives_seed: int = 0  # the draw of the negative set (fixed across training seeds)

    def __post_init__(self):
        super().__post_init__()
        from .promoters import NEGATIVE_SETS

        if self.negatives not in NEGATIVE_SETS:
            raise ConfigError(f"negatives {self.negatives!r}: choose one of {NEGATIVE_SETS}")


@dataclass(frozen=True, kw_only=True)
class TfbsConfig(_ContigTaskConfig):
    peaks: str
    width: int = 101

    def __post_init__(self):
        super().__post_init__()
        if self.width < 10:
            raise ConfigError(f"width must be >= 10, got {self.width}")


@dataclass(frozen=True)
class PeakExample:
    chrom: str
    start: int
    end: int
    label: int  # 1 = the peak's DNA, 0 = its dinucleotide shuffle
    name: str
    sequence: str


def _feature_baseline(train, test, features) -> np.ndarray:
    from ..baselines import fit_predict

    return fit_predict(features([e.sequence for e in train]), np.array([e.label for e in train]),
                       features([e.sequence for e in test]))


def _contig_group(name: str, examples: list, folds: int, encode, header, rows, data: dict, baseline) -> Group:
    contig_folds, fold_ids = fold_of_each([e.chrom for e in examples], folds)
    return Group(
        name, examples, fold_ids, len(contig_folds),
        functools.partial(labelled_dataset, encode=encode),
        describe_fold=lambda k: {"test_contigs": contig_folds[k],
                                 "valid_contigs": contig_folds[(k + 1) % len(contig_folds)]},
        prediction_header=header, prediction_rows=rows, data={**data, "contigs": sorted(set(e.chrom for e in examples))},
        baseline=baseline,
    )


def _promoter_rows(examples, probs, baseline):
    for example, prob, base in zip(examples, probs, baseline, strict=True):
        yield (example.chrom, example.start, example.end, example.strand, example.source, example.name,
               example.label, f"{prob:.9g}", f"{base:.9g}")


def finetune_promoters(config: PromoterConfig, *, progress: bool = True) -> dict:
    """Cross-validated promoter-core classification; returns (and writes) the summary (group
    ``promoters_<negatives>``)."""
    from ...io.annotation import read_transcripts
    from ...sources.gencode import annotation_file
    from ...io.genome import Genome
    from ..baselines import composition
    from .promoters import promoter_examples

    family = model_family(config.model)

    def groups():
        with Genome(config.genome) as genome:
            data = promoter_examples(genome, read_transcripts(annotation_file(config.annotation)), config.negatives,
                                     seed=config.negatives_seed)
        if not any(e.label for e in data.examples):
            raise UserError(f"no TSS window of {config.annotation} lies in {config.genome}")
        yield _contig_group(
            f"promoters_{config.negatives}", data.examples, config.folds, family.encode,
            ("chrom", "start", "end", "strand", "source", "gene", "label", "probability", "baseline_probability"),
            _promoter_rows,
            {"positives": sum(e.label for e in data.examples), "negatives": sum(1 - e.label for e in data.examples),
             "skipped": dict(data.skipped)},
            baseline=functools.partial(_feature_baseline, features=composition))

    return run_task(binary_task("promoters", family), config, groups, progress, family)


def peak_examples(genome, peaks_path: str, width: int, seed: int = 0) -> tuple[list[PeakExample], Counter]:
    """The central ``width`` nt of each peak and one dinucleotide shuffle of it."""
    from ..genebert.regions import read_bed_regions
    from ...io.genome import WindowSource
    from .promoters import dinucleotide_shuffle

    source = WindowSource(genome)
    rng = np.random.default_rng(seed)
    examples = []
    for index, region in enumerate(read_bed_regions(peaks_path)):
        contig = source.contig(region.chrom)
        if contig is None:
            continue
        start = (region.start + region.end) // 2 - width // 2
        sequence = source.fetch(contig, start, start + width, no_n=True)
        if sequence is None:
            continue
        sequence = sequence.upper()
        name = f"peak{index}"
        examples.append(PeakExample(contig, start, start + width, 1, name, sequence))
        examples.append(PeakExample(contig, start, start + width, 0, name, dinucleotide_shuffle(sequence, rng)))
    return examples, source.skipped


def _peak_rows(examples, probs, baseline):
    for example, prob, base in zip(examples, probs, baseline, strict=True):
        yield example.chrom, example.start, example.end, example.name, example.label, f"{prob:.9g}", f"{base:.9g}"


def finetune_tfbs(config: TfbsConfig, *, progress: bool = True) -> dict:
    """Cross-validated peaks-vs-shuffles classification; returns (and writes) the summary (group ``tfbs``)."""
    from ...io.genome import Genome
    from ..baselines import kmer_spectrum

    family = model_family(config.model)

    def groups():
        with Genome(config.genome) as genome:
            examples, skipped = peak_examples(genome, config.peaks, config.width, seed=config.seed)
        if not examples:
            raise UserError(f"no peak of {config.peaks} gives a {config.width}-nt window in {config.genome}")
        yield _contig_group("tfbs", examples, config.folds, family.encode,
                            ("chrom", "start", "end", "peak", "label", "probability", "baseline_probability"),
                            _peak_rows, {"peaks": len(examples) // 2, "skipped": dict(skipped)},
                            baseline=functools.partial(_feature_baseline, features=kmer_spectrum))

    return run_task(binary_task("tfbs", family), config, groups, progress, family)
