"""The main job: score a VCF against a genome and an annotation, write VCF + table.

Output VCF: every input record, in input order, unchanged except for INFO, where a scored
record gets ``SpliceBERT=ALLELE|SYMBOL|STRAND|KL_CONTEXT|MAX_KL|SPLICE_SITE_KL[|DELTA_P]|NOTE``
(one entry per ALT allele x overlapping gene, comma-separated) and a record that could not be
scored at all gets ``SpliceBERT_REASON=<code>``. Codes are explained in the header.
"""

from __future__ import annotations

import csv
import logging
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from . import scoring
from .io.annotation import read_annotation
from .io.genome import Genome
from .io.vcf import VcfReader, open_output, with_header_lines, with_info

log = logging.getLogger(__name__)

INFO_ID = "SpliceBERT"
REASON_ID = "SpliceBERT_REASON"
TABLE_COLUMNS = ("CHROM", "POS", "ID", "REF", "ALT", "GENE", "STRAND")
TABLE_TAIL = ("NOTE", "WINDOW_START", "VARIANT_INDEX")


def info_format(scores: tuple[str, ...]) -> str:
    return "|".join(("ALLELE", "SYMBOL", "STRAND", *scores, "NOTE"))


def header_lines(options: scoring.ScoringOptions, model_label: str, width: int) -> list[str]:
    codes = "; ".join(f"{code}: {text}" for code, text in scoring.REASONS.items())
    return [
        f'##INFO=<ID={INFO_ID},Number=.,Type=String,Description="SpliceBERT zero-shot scores (KL-context: '
        f"natural-log sum over +-{options.context} nt, floor 1e-6; larger = more disruptive). "
        f'Format: {info_format(options.scores)}">',
        f'##INFO=<ID={REASON_ID},Number=1,Type=String,Description="Why SpliceBERT did not score this record. {codes}">',
        f"##SpliceBERT_model={model_label}",
        f"##SpliceBERT_window={options.mode}-centred,{width}nt",
    ]


def _number(value: float | None, precision: str = ".6g") -> str:
    return "." if value is None or math.isnan(value) else format(value, precision)


def info_entries(result: scoring.RecordResult, scores: tuple[str, ...]) -> dict[str, str]:
    if result.reason is not None:
        return {REASON_ID: result.reason}
    entries = []
    for allele in result.alleles:
        values = [_number(allele.scores.get(name)) for name in scores]
        entries.append("|".join((allele.allele, allele.gene, allele.strand, *values, allele.note or ".")))
    return {INFO_ID: ",".join(entries)}


def table_rows(result: scoring.RecordResult, scores: tuple[str, ...]):
    record = result.record
    base = (record.chrom, record.pos, record.id, record.ref)
    if result.reason is not None:
        for alt in record.alts:
            yield (*base, alt, "", "", *([math.nan] * len(scores)), result.reason, None, None)
        return
    for allele in result.alleles:
        values = [allele.scores.get(name, math.nan) for name in scores]
        yield (*base, allele.allele, allele.gene, allele.strand, *values, allele.note, allele.window_start,
               allele.variant_index)


class TableWriter:
    """TSV (``.tsv``/``.tsv.gz``) or Parquet (``.parquet``) side output, written chunk by chunk."""

    def __init__(self, path: str, scores: tuple[str, ...]):
        self.path = path
        self.columns = (*TABLE_COLUMNS, *scores, *TABLE_TAIL)
        self._rows: list[tuple] = []
        self._parquet = path.endswith(".parquet")
        self._writer = None
        if not self._parquet:
            import gzip

            self._handle = gzip.open(path, "wt", newline="") if path.endswith(".gz") else open(path, "w", newline="")
            self._csv = csv.writer(self._handle, delimiter="\t", lineterminator="\n")
            self._csv.writerow(self.columns)

    def write(self, rows) -> None:
        if self._parquet:
            self._rows.extend(rows)
            if len(self._rows) >= 4096:
                self._flush_parquet()
        else:
            for row in rows:
                self._csv.writerow(["" if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in row])

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = list(zip(*self._rows)) if self._rows else [[] for _ in self.columns]
        types = {"POS": pa.int64(), "WINDOW_START": pa.int64(), "VARIANT_INDEX": pa.int64()}
        arrays = [
            pa.array(list(col), type=types.get(name, pa.float64() if name in scoring.ALL_SCORES else pa.string()))
            for name, col in zip(self.columns, columns)
        ]
        table = pa.Table.from_arrays(arrays, names=list(self.columns))
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table)
        self._rows = []

    def close(self) -> None:
        if self._parquet:
            if self._rows or self._writer is None:
                self._flush_parquet()
            self._writer.close()
        else:
            self._handle.close()


@dataclass
class ScoreSummary:
    records: int = 0
    scored_records: int = 0
    entries: int = 0
    reasons: dict | None = None


class _Processes:
    """This process's place among the processes of ``torchrun`` / ``accelerate launch`` (1 if alone)."""

    def __init__(self):
        import os

        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self._dist = None
        if self.world > 1:
            import torch
            import torch.distributed as dist

            if not dist.is_initialized():
                dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
            self._dist = dist

    def barrier(self) -> None:
        if self._dist is not None:
            self._dist.barrier()


def _write_result(result, out, table_writer, summary, scores) -> None:
    summary.records += 1
    if result.reason is None:
        summary.scored_records += 1
        summary.entries += len(result.alleles)
    else:
        summary.reasons[result.reason] = summary.reasons.get(result.reason, 0) + 1
    out.write(with_info(result.record, info_entries(result, scores)) + "\n")
    if table_writer:
        table_writer.write(table_rows(result, scores))


def score_vcf(
    model,
    input_vcf: str,
    output_vcf: str,
    genome: str,
    annotation: str,
    *,
    options: scoring.ScoringOptions = scoring.ScoringOptions(),
    table: str | None = None,
    model_label: str = "",
    progress: bool = True,
) -> ScoreSummary:
    """Score every record of ``input_vcf``; write ``output_vcf`` (and ``table``). ``-`` = stdin/stdout.

    Under ``torchrun`` / ``accelerate launch`` every process scores its share of the chunks and
    the first process writes one output, identical to a single-process run (the output folder
    must be shared by all processes, as on one node or a cluster file system).
    """
    import pickle

    from tqdm import tqdm

    processes = _Processes()
    if processes.world > 1 and input_vcf == "-":
        raise ValueError("several processes cannot share standard input: pass the VCF with -I")
    if processes.world > 1 and output_vcf == "-":
        raise ValueError("several processes need an output file: pass -O")
    genes = read_annotation(annotation)
    summary = ScoreSummary(reasons={})
    with Genome(genome) as fasta:
        scorer = scoring.VariantScorer(model, fasta, genes, options)
        reader = VcfReader(input_vcf)
        if reader.contigs:
            scorer.check_vcf_contigs(reader.contigs, f"VCF {input_vcf}")
        header = with_header_lines(reader.header, header_lines(options, model_label, scorer.width))
        bar = tqdm(reader, desc="scoring", unit=" records", file=sys.stderr, disable=not progress or processes.rank > 0)
        if processes.world == 1:
            chunks = scorer.score_chunks(bar)
        else:
            # each process scores every world-th chunk and leaves its results in a shard file
            shard = Path(f"{output_vcf}.part{processes.rank}")
            mine = 0
            with open(shard, "wb") as handle:
                for first, results in scorer.score_chunks(bar, keep=lambda k: k % processes.world == processes.rank):
                    pickle.dump((first, results), handle)
                    mine += 1
            print(f"splicebert score: process {processes.rank} of {processes.world} scored {mine} chunk(s)",
                  file=sys.stderr)
            processes.barrier()
            chunks = _merge_shards([Path(f"{output_vcf}.part{r}") for r in range(processes.world)])
        if processes.rank == 0:
            table_writer = TableWriter(table, options.scores) if table else None
            out = open_output(output_vcf)
            try:
                out.write("\n".join(header) + "\n")
                for _, results in chunks:
                    for result in results:
                        _write_result(result, out, table_writer, summary, options.scores)
            finally:
                out.close()
                if table_writer:
                    table_writer.close()
        processes.barrier()
        if processes.world > 1:
            Path(f"{output_vcf}.part{processes.rank}").unlink(missing_ok=True)
    return summary


def _merge_shards(paths: list[Path]):
    """Chunks from every process's shard, in input order."""
    import heapq
    import pickle

    def read(path):
        with open(path, "rb") as handle:
            while True:
                try:
                    yield pickle.load(handle)
                except EOFError:
                    return

    yield from heapq.merge(*(read(path) for path in paths), key=lambda item: item[0])


def resolve_model(spec: str | None, *, device: str | None = None):
    """Load a model: ``None``/``"demo"`` (the bundled demo model), a checkpoint folder
    (converted or original format) or a Hub id.

    Returns ``(model, label)``.
    """
    import torch

    from .checkpoints import CheckpointError, load_masked_lm

    if spec is None or spec == "demo":
        from . import DEMO_MODEL

        if not Path(DEMO_MODEL, "config.json").is_file():
            raise CheckpointError(
                f"the bundled demo model is missing from {DEMO_MODEL}; recreate it with "
                "'python training/make_demo_model.py --install' or pass -m with a SpliceBERT checkpoint"
            )
        model = load_masked_lm(DEMO_MODEL)
        spec = "demo (splicebert-plugin demo model, not the paper's weights)"
    elif Path(spec).exists() or spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        model = load_masked_lm(Path(spec).expanduser())  # a path: names the folder if it is missing
    else:
        from transformers import AutoModelForMaskedLM

        try:
            model = AutoModelForMaskedLM.from_pretrained(spec)
        except OSError as error:
            raise CheckpointError(
                f"{spec!r} is neither a checkpoint folder nor a reachable Hub model ({error}); "
                "pass a local folder (splicebert convert makes one from the released weights)"
            ) from None
    if device is None:
        import os

        device = f"cuda:{os.environ.get('LOCAL_RANK', '0')}" if torch.cuda.is_available() else "cpu"
    target = torch.device(device)
    return model.to(target).eval(), spec


def results_frame(results, scores: tuple[str, ...]):
    """A pandas DataFrame with one row per ALT x gene (the ``--table`` layout)."""
    import pandas as pd

    rows = [row for result in results for row in table_rows(result, scores)]
    return pd.DataFrame(rows, columns=[*TABLE_COLUMNS, *scores, *TABLE_TAIL])


def _score_to_frame(model, records, genome: str, annotation: str, options: scoring.ScoringOptions):
    """Results of ``records`` (consumed while the genome is open) as a :func:`results_frame`."""
    genes = read_annotation(annotation)
    with Genome(genome) as fasta:
        results = list(scoring.VariantScorer(model, fasta, genes, options).score(records()))
    return results_frame(results, options.scores)


def score_variants(model, variants, genome: str, annotation: str, *, options=scoring.ScoringOptions()):
    """Score a table of variants; returns a DataFrame (one row per ALT x gene).

    ``variants``: a pandas DataFrame (or anything ``pandas.DataFrame`` accepts) with columns
    ``CHROM``, ``POS`` (1-based, as in VCF), ``REF``, ``ALT`` (comma-separated for several) and
    optionally ``ID``.
    """
    import pandas as pd

    from .io.vcf import parse_record

    frame = pd.DataFrame(variants)
    missing = [c for c in ("CHROM", "POS", "REF", "ALT") if c not in frame.columns]
    if missing:
        raise ValueError(f"variants table lacks column(s) {missing}; needs CHROM, POS (1-based), REF, ALT")
    records = []
    for i, row in enumerate(frame.itertuples(index=False)):
        values = row._asdict()
        fields = (values["CHROM"], int(values["POS"]), values.get("ID", "."), values["REF"], values["ALT"], ".", ".", ".")
        records.append(parse_record("\t".join(str(f) for f in fields), i + 1, "variants table"))
    return _score_to_frame(model, lambda: records, genome, annotation, options)


def score_vcf_frame(model, input_vcf: str, genome: str, annotation: str, *, options=scoring.ScoringOptions()):
    """Score a VCF and return the DataFrame of :func:`results_frame` (no files written)."""
    return _score_to_frame(model, lambda: VcfReader(input_vcf), genome, annotation, options)
