"""The main job: score a VCF against a genome and an annotation, write VCF + table.

Output VCF: every input record, in input order, unchanged except for INFO, where a scored
record gets ``SpliceBERT=ALLELE|SYMBOL|STRAND|KL_CONTEXT|MAX_KL|SPLICE_SITE_KL[|DELTA_P]|NOTE``
(one entry per ALT allele x overlapping gene, comma-separated; values percent-encoded where
INFO cannot hold a character) and a record that could not be scored at all gets
``SpliceBERT_REASON=<code>``. Codes are explained in the header and in ``docs/scoring.md``.

A job is opened in two steps so that a bad invocation fails before the model is loaded:
:class:`VcfScoringJob` checks and opens every input and output path, then :meth:`VcfScoringJob.run`
takes the model. :func:`score_vcf` does both.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from . import parallel
from . import passes as scoring
from ..io.annotation import read_annotation
from ..sources.gencode import annotation_file
from ..io.bgzf import bgzip_file
from ..io.contigs import ContigMap
from ..io.genome import Genome
from ..io.outputs import (OutputError, RunFiles, Target, check_leftovers, check_output_paths, file_identity,
                          is_stream)
from ..io.table import finish_table, table_format, tsv_lines
from ..io.vcf import VcfReader, info_safe, parse_record, with_header_lines, with_info
from ..errors import UserError
from .precompute import Settings
from .precomputed_lookup import PrecomputedLookup

log = logging.getLogger(__name__)

INFO_ID = "SpliceBERT"
REASON_ID = "SpliceBERT_REASON"
HEADER_PREFIX = "##SpliceBERT_"  # our own meta lines (model, window, precision): replaced when re-scoring
TABLE_COLUMNS = ("CHROM", "POS", "ID", "REF", "ALT", "GENE", "STRAND")
TABLE_TAIL = ("NOTE", "WINDOW_START", "VARIANT_INDEX")


def info_format(scores: tuple[str, ...]) -> str:
    return "|".join(("ALLELE", "SYMBOL", "STRAND", *scores, "NOTE"))


def header_lines(options: scoring.ScoringOptions, model_label: str, width: int) -> list[str]:
    codes = "; ".join(f"{code}: {text}" for code, text in scoring.REASONS.items())
    return [
        f'##INFO=<ID={INFO_ID},Number=.,Type=String,Description="SpliceBERT zero-shot scores (KL-context: '
        f"natural-log sum over +-{options.context} nt, floor 1e-6; larger = more disruptive). "
        f"Format: {info_format(options.scores)}. Characters INFO cannot hold are percent-encoded "
        f'(%3B semicolon, %3D equals, %2C comma, %20 space, %7C bar, %25 percent)">',
        f'##INFO=<ID={REASON_ID},Number=1,Type=String,Description="Why SpliceBERT did not score this record. {codes}">',
        f"{HEADER_PREFIX}model={model_label}",
        f"{HEADER_PREFIX}window={options.mode}-centred,{width}nt",
        f"{HEADER_PREFIX}precision={options.precision}",
    ]


def _number(value: float | None, precision: str = ".6g") -> str:
    return "." if value is None or math.isnan(value) else format(value, precision)


def info_entries(result: scoring.RecordResult, scores: tuple[str, ...]) -> dict[str, str]:
    if result.reason is not None:
        return {REASON_ID: result.reason}
    entries = []
    for allele in result.alleles:
        values = [_number(allele.scores.get(name)) for name in scores]
        fields = (allele.allele, allele.gene, allele.strand, *values, allele.note or ".")
        entries.append("|".join(info_safe(text) for text in fields))
    return {INFO_ID: ",".join(entries)}


def output_line(result: scoring.RecordResult, scores: tuple[str, ...]) -> str:
    """The record's VCF line with our INFO (an earlier run's SpliceBERT keys replaced)."""
    return with_info(result.record, info_entries(result, scores), owned=(INFO_ID, REASON_ID))


def table_columns(scores: tuple[str, ...]) -> tuple[str, ...]:
    return (*TABLE_COLUMNS, *scores, *TABLE_TAIL)


def table_rows(result: scoring.RecordResult, scores: tuple[str, ...]):
    """One row per ALT x gene (per ALT when the record has a reason), in :func:`table_columns` order."""
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


@dataclass
class ScoreSummary:
    records: int = 0  # records written by this run (after the resumed ones)
    scored_records: int = 0
    entries: int = 0
    reasons: dict = field(default_factory=dict)
    resumed: int = 0  # records taken over from an interrupted run's partial output

    def add(self, result: scoring.RecordResult) -> None:
        """Count ``result``: a record is scored when at least one allele x gene entry has scores
        (a record whose alleles are all unsupported, say, is counted under their reason)."""
        self.records += 1
        scored = [allele for allele in result.alleles if allele.reason is None]
        if result.reason is None and scored:
            self.scored_records += 1
            self.entries += len(scored)
            return
        reason = result.reason or next((a.reason for a in result.alleles if a.reason), "no allele scored")
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


class PartialRun(Exception):
    """A run stopped (error or interruption) after writing part of its output; ``hint`` says how
    to resume. The cause is chained (``__cause__``)."""

    def __init__(self, message: str, hint: str, interrupted: bool):
        super().__init__(f"{message}; {hint}" if hint else message)
        self.hint, self.interrupted = hint, interrupted


class VcfScoringJob:
    """One scoring job with every input opened and checked (the model comes in :meth:`run`).

    Checks, in order: the output paths (never an input, a folder or a missing folder; no
    ``.partial`` leftovers unless ``resume``), the annotation, the genome and its index, the
    VCF header, and that the three share contig names. ``-`` is stdin / stdout.
    """

    def __init__(self, input_vcf: str, output_vcf: str, genome: str, annotation: str, *,
                 options: scoring.ScoringOptions = scoring.ScoringOptions(), table: str | None = None,
                 resume: bool = False, precomputed: Sequence[str] = ()):
        self.input_vcf, self.output_vcf, self.table, self.options, self.resume = (
            input_vcf, output_vcf, table, options, resume)
        self.precomputed_paths = list(precomputed)
        if table is not None and not is_stream(table):
            table_format(table)
        #: outputs written in place as they come (stdout, devices, FIFOs), never through .partial files
        self._streams = {role: path for role, path in (("vcf", output_vcf), ("table", table)) if is_stream(path)}
        self._check_streams()
        check_output_paths({"-O": output_vcf, "--table": table},
                           {"-I": input_vcf, "-R": genome, "-A": annotation, "the genome index": f"{genome}.fai",
                            **{f"--precomputed {p}": p for p in self.precomputed_paths}})
        self.processes = parallel.Processes()
        if self.processes.world > 1 and input_vcf == "-":
            raise UserError("several processes cannot share standard input: pass the VCF with -I")
        if self.processes.world > 1 and self._streams:
            raise UserError("several processes need output files (the first one merges their shards): pass -O "
                            "(and --table) with regular file names, not standard output or a device")
        if resume and self.processes.world > 1:
            raise UserError("--resume works with one process (several processes write the output at the end)")
        self._outputs = [Path(p) for p in (output_vcf, table) if p is not None and not is_stream(p)]
        if resume and self._streams:
            raise UserError("--resume needs every output in a regular file: standard output, a device or a FIFO "
                            "cannot be resumed")
        if resume and input_vcf == "-":
            raise UserError("--resume needs the input VCF in a file (-I): standard input cannot be read again")
        self.annotation = annotation_file(annotation)
        self.genome_path = genome
        if self._outputs:
            check_leftovers(self._outputs, resume)
        self.genes = read_annotation(self.annotation)
        self.lookup = PrecomputedLookup(self.precomputed_paths) if self.precomputed_paths else None
        self.genome = Genome(genome)
        try:
            self.reader = VcfReader(input_vcf)
            genome_names = ContigMap(self.genome.contigs, f"genome {self.genome.path.name}")
            genome_names.require_overlap(self.genes.contigs, f"annotation {self.genes.source}")
            if self.reader.contigs:
                genome_names.require_overlap(self.reader.contigs, f"VCF {input_vcf}")
        except BaseException:
            self.genome.close()
            raise

    def _check_streams(self) -> None:
        for role, path in self._streams.items():
            if path == "-":
                continue
            if role == "vcf" and str(path).endswith((".gz", ".bgz", ".bcf")):
                raise OutputError(f"-O {path}: a device or FIFO is written as plain text; name it without .gz/.bcf "
                                  "(or pipe standard output to bgzip)")
            if role == "table" and str(path).endswith((".gz", ".parquet", ".pq")):
                raise OutputError(f"--table {path}: a device or FIFO takes a plain tab-separated table only")

    def _identity(self, model_label: str, width: int) -> dict:
        """What a resumed run must share with the interrupted one: every input's identity and every
        option that changes the output."""
        options = self.options
        return {"input (-I)": file_identity(self.input_vcf), "genome (-R)": file_identity(self.genome_path),
                "annotation (-A)": file_identity(self.annotation), "model (-m)": model_label, "window": width,
                "mode": options.mode, "scores": ",".join(options.scores), "context": options.context,
                "precision": options.precision, "precomputed": [file_identity(p) for p in self.precomputed_paths],
                "outputs": [str(p.resolve()) for p in self._outputs]}

    def close(self) -> None:
        self.genome.close()
        if self.lookup is not None:
            self.lookup.close()

    def __enter__(self) -> "VcfScoringJob":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _targets(self, header: str, scores: tuple[str, ...]) -> list[Target]:
        targets = []
        if "vcf" not in self._streams:
            if self.output_vcf.endswith(".bcf"):
                raise OutputError(f"-O {self.output_vcf}: BCF output is not written; name it .vcf or .vcf.gz "
                                  "(bcftools view -Ob converts)")
            gz = self.output_vcf.endswith((".gz", ".bgz"))
            targets.append(Target(Path(self.output_vcf), header, bgzip_file if gz else None))
        if self.table is not None and "table" not in self._streams:
            columns = table_columns(scores)
            fmt = table_format(self.table)
            finish = None if fmt == ".tsv" else functools.partial(
                finish_table, fmt=fmt, columns=columns, integer={"POS", "WINDOW_START", "VARIANT_INDEX"},
                floating=set(scoring.ALL_SCORES))
            targets.append(Target(Path(self.table), tsv_lines([columns]), finish))
        return targets

    def run(self, model, *, model_label: str = "", progress: bool = True) -> ScoreSummary:
        """Score every record with ``model`` and write the outputs; returns what was written.

        Raises :class:`PartialRun` (chained to the cause) when a run that has begun its output
        stops early: its ``.partial`` files are kept for ``resume``.
        """
        from tqdm import tqdm

        options = self.options
        scorer = scoring.VariantScorer(model, self.genome, self.genes, options, precomputed=self.lookup)
        if self.lookup is not None:
            self.lookup.check(Settings.of_run(model, model_label, scorer.width, options))
        header = with_header_lines(self.reader.header, header_lines(options, model_label, scorer.width),
                                   owned_prefixes=(HEADER_PREFIX,))
        header_text = "\n".join(header) + "\n"
        summary = ScoreSummary()
        files = None
        if self.processes.is_main and self._outputs:
            files = RunFiles(self._targets(header_text, options.scores), resume=self.resume,
                             identity=self._identity(model_label, scorer.width))
            summary.resumed = files.done
        streams = self._open_streams() if self.processes.is_main else {}
        try:
            if "vcf" in streams:
                self._stream_write(streams, "vcf", header_text)
            if "table" in streams:
                self._stream_write(streams, "table", tsv_lines([table_columns(options.scores)]))
            records = itertools.islice(self.reader, summary.resumed, None)
            # the bar counts records written (not read: reading runs a chunk ahead of scoring)
            bar = tqdm(desc="scoring", unit=" records", file=sys.stderr, initial=summary.resumed,
                       disable=not progress or not self.processes.is_main)
            if self.processes.world == 1:
                chunks = (scorer.score_chunk(chunk) for chunk in scoring.chunks(records, options.chunk_size))
            else:
                chunks = self._shared_out(scorer, records)
            for results in chunks:  # other processes' chunks reach the first one only
                self._write(results, files, streams, summary)
                bar.update(len(results))
            bar.close()
            if files is not None:
                files.commit()
        except (KeyboardInterrupt, Exception) as error:
            if files is not None:
                files.close()
            self._close_streams(streams)
            if files is None or isinstance(error, BrokenPipeError):
                raise
            interrupted = isinstance(error, KeyboardInterrupt)
            message = "interrupted" if interrupted else (str(error) or type(error).__name__)
            raise PartialRun(message, files.resume_hint(), interrupted) from error
        self._close_streams(streams)
        return summary

    def _open_streams(self) -> dict:
        opened = {}
        for role, path in self._streams.items():
            if path == "-":
                opened[role] = (path, sys.stdout)
                continue
            try:
                opened[role] = (path, open(path, "w", buffering=1))  # written in place: no rename over a device
            except OSError as error:
                self._close_streams(opened)
                raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
        return opened

    def _stream_write(self, streams: dict, role: str, text: str) -> None:
        path, handle = streams[role]
        try:
            handle.write(text)
            handle.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise OutputError(f"cannot write {path}: {error.strerror or error}") from None

    @staticmethod
    def _close_streams(streams: dict) -> None:
        for path, handle in streams.values():
            if path != "-" and not handle.closed:
                try:
                    handle.close()
                except OSError:
                    pass

    def _write(self, results, files, streams: dict, summary: ScoreSummary) -> None:
        scores = self.options.scores
        vcf_text = "".join(output_line(result, scores) + "\n" for result in results)
        table_text = None
        if self.table is not None:
            table_text = tsv_lines(row for result in results for row in table_rows(result, scores))
        for role, text in (("vcf", vcf_text), ("table", table_text)):
            if role in streams:
                self._stream_write(streams, role, text)
        if files is not None:
            texts = [vcf_text] if "vcf" not in self._streams else []
            if table_text is not None and "table" not in self._streams:
                texts.append(table_text)
            files.append(texts, len(results))
        for result in results:
            summary.add(result)

    def _shared_out(self, scorer, records):
        """This process's chunks into a shard; after all processes, the first reads every shard."""
        processes = self.processes
        numbered = enumerate(scoring.chunks(enumerate(records), self.options.chunk_size))
        mine = ((chunk[0][0], scorer.score_chunk([record for _, record in chunk]))
                for number, chunk in numbered if processes.mine(number))
        shard = parallel.shard_path(self.output_vcf, processes.rank)
        try:
            count = parallel.write_shard(shard, mine)
            print(f"splicebert score: process {processes.rank} of {processes.world} scored {count} chunk(s)",
                  file=sys.stderr)
            processes.barrier()
            if processes.is_main:
                paths = [parallel.shard_path(self.output_vcf, rank) for rank in range(processes.world)]
                for _, results in parallel.merge_shards(paths):
                    yield results
            processes.barrier()
        finally:
            shard.unlink(missing_ok=True)


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
    resume: bool = False,
    precomputed: Sequence[str] = (),
) -> ScoreSummary:
    """Score every record of ``input_vcf``; write ``output_vcf`` (and ``table``). ``-`` = stdin/stdout.

    Under ``torchrun`` / ``accelerate launch`` every process scores its share of the chunks and
    the first process writes one output, identical to a single-process run. ``precomputed``:
    files of ``splicebert precompute`` made with this model and these options; the SNVs they
    hold are copied from them (the same bytes as computing them), the rest computed.
    """
    with VcfScoringJob(input_vcf, output_vcf, genome, annotation, options=options, table=table,
                       resume=resume, precomputed=precomputed) as job:
        return job.run(model, model_label=model_label, progress=progress)


def results_frame(results, scores: tuple[str, ...]):
    """A pandas DataFrame with one row per ALT x gene (the ``--table`` layout)."""
    import pandas as pd

    rows = [row for result in results for row in table_rows(result, scores)]
    return pd.DataFrame(rows, columns=list(table_columns(scores)))


def _score_to_frame(model, records, genome: str, annotation: str, options: scoring.ScoringOptions):
    """Results of ``records()`` (consumed while the genome is open) as a :func:`results_frame`."""
    genes = read_annotation(annotation_file(annotation))
    with Genome(genome) as fasta:
        results = list(scoring.VariantScorer(model, fasta, genes, options).score(records()))
    return results_frame(results, options.scores)


def score_variants(model, variants, genome: str, annotation: str, *, options=scoring.ScoringOptions()):
    """Score a table of variants; returns a DataFrame (one row per ALT x gene).

    ``variants``: a pandas DataFrame (or anything ``pandas.DataFrame`` accepts) with columns
    ``CHROM``, ``POS`` (1-based, as in VCF), ``REF``, ``ALT`` (comma-separated for several) and
    optionally ``ID``. The caller's table is not modified.
    """
    import pandas as pd

    frame = pd.DataFrame(variants)
    missing = [c for c in ("CHROM", "POS", "REF", "ALT") if c not in frame.columns]
    if missing:
        raise UserError(f"variants table lacks column(s) {missing}; needs CHROM, POS (1-based), REF, ALT")
    records = []
    for i, row in enumerate(frame.itertuples(index=False)):
        values = row._asdict()
        try:
            pos = int(values["POS"])
        except (TypeError, ValueError):
            raise UserError(f"variants table row {i + 1}: POS {values['POS']!r} is not an integer") from None
        fields = (values["CHROM"], pos, values.get("ID", "."), values["REF"], values["ALT"], ".", ".", ".")
        records.append(parse_record("\t".join(str(f) for f in fields), i + 1, "variants table"))
    return _score_to_frame(model, lambda: records, genome, annotation, options)


def score_vcf_frame(model, input_vcf: str, genome: str, annotation: str, *, options=scoring.ScoringOptions()):
    """Score a VCF and return the DataFrame of :func:`results_frame` (no files written)."""
    return _score_to_frame(model, lambda: VcfReader(input_vcf), genome, annotation, options)
