"""``splicebert precompute``: every SNV of a region set scored into a bgzipped, tabix-indexed
file, one process, independent shards (``--shard K/N``, for job arrays) with a merge, or the
processes of ``torchrun`` / ``accelerate launch``; and the lookup ``score --precomputed`` uses.

Outputs are written through ``.partial`` files (``io.outputs.RunFiles``): an interrupted run or
shard keeps them and continues with ``--resume``; a merged file has the bytes of a one-process
run (the same header and rows, compressed and indexed once).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..errors import UserError
from ..io.bed import read_intervals
from ..io.outputs import RunFiles, Target, check_leftovers, check_not_active, check_output_paths, file_identity
from ..io.tabix import compress, index
from . import parallel
from .passes import ScoringOptions, VariantScorer, chunks
from .precompute import (SHARD_PREFIX, Settings, columns, exon_intervals, merge_intervals, positions, result_rows,
                         shard_bounds, snv_records)
from .vcf_job import PartialRun

_POSITIONS_PER_CHUNK = 64


@dataclass
class PrecomputeSummary:
    positions: int = 0  # positions written by this run (after resumed ones)
    rows: int = 0
    resumed: int = 0
    not_acgt: int = 0  # positions whose reference base is not A/C/G/T: no SNV, no row
    regions: int = 0
    skipped_intervals: dict = field(default_factory=dict)


def parse_shard(text: str | None) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)`` (1-based); None -> ``(1, 1)``."""
    if text is None:
        return 1, 1
    try:
        shard, shards = (int(x) for x in text.split("/"))
    except ValueError:
        raise UserError(f"--shard {text!r}: expected K/N, e.g. 3/10 (the 3rd of 10 shards)") from None
    if not 1 <= shard <= shards:
        raise UserError(f"--shard {text!r}: need 1 <= K <= N")
    return shard, shards


def shard_file(output: str | Path, shard: int, shards: int) -> Path:
    return Path(f"{output}.shard{shard}of{shards}.tsv.gz")


class PrecomputeJob:
    """One precompute run with its inputs opened and checked (the model comes in :meth:`run`)."""

    def __init__(self, genome: str, annotation: str, output: str, *, bed: str | None = None, flank: int = 50,
                 options: ScoringOptions = ScoringOptions(), shard: str | None = None, resume: bool = False):
        from ..io.annotation import read_annotation
        from ..io.contigs import ContigMap
        from ..io.genome import Genome
        from ..sources.gencode import annotation_file

        if not str(output).endswith((".gz", ".bgz")):
            raise UserError(f"-O {output}: a precomputed file is bgzipped; name it .tsv.gz")
        if flank < 0:
            raise UserError(f"--flank must be >= 0, got {flank}")
        self.processes = parallel.Processes()
        self.shard, self.shards = parse_shard(shard)
        if self.processes.world > 1:
            if shard is not None:
                raise UserError("--shard and a launcher (torchrun / accelerate launch) exclude each other: the "
                                "launcher's processes are the shards")
            self.shard, self.shards = self.processes.rank + 1, self.processes.world
        self.output, self.options, self.resume = str(output), options, resume
        self.annotation = annotation_file(annotation)
        check_output_paths({"-O": self.output}, {"-R": genome, "-A": str(self.annotation), "--bed": bed,
                                                 "the genome index": f"{genome}.fai"})
        check_leftovers([self._target()], resume)  # RunFiles' refusals, before the model loads
        if self.processes.is_main and self.processes.world > 1:
            check_not_active(self.output)  # the merged file
        self.genome_path, self.bed, self.flank = genome, bed, flank
        self.genes = read_annotation(self.annotation)
        self.genome = Genome(genome)
        try:
            names = ContigMap(self.genome.contigs, f"genome {self.genome.path.name}")
            names.require_overlap(self.genes.contigs, f"annotation {self.genes.source}")
            raw = read_intervals(bed) if bed else exon_intervals(self.genes, flank)
            kept, self.skipped = [], {}
            for chrom, start, end in raw:
                contig = names.get(chrom)
                if contig is None:
                    self.skipped[chrom] = self.skipped.get(chrom, 0) + 1
                    continue
                end = min(end, self.genome.lengths[contig])
                if start < end:
                    kept.append((contig, start, end))
            if not kept:
                raise UserError(f"no region of {bed or self.annotation} lies on a contig of {genome}"
                                + (f" (contigs {sorted(self.skipped)[:5]})" if self.skipped else ""))
            self.regions = merge_intervals(kept, self.genome.contigs)
        except BaseException:
            self.genome.close()
            raise
        self.total = sum(end - start for _, start, end in self.regions)

    def close(self) -> None:
        self.genome.close()

    def __enter__(self) -> "PrecomputeJob":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _target(self) -> Path:
        """-O, or this process's shard file under a launcher (the first process merges them into -O)."""
        return shard_file(self.output, self.shard, self.shards) if self.processes.world > 1 else Path(self.output)

    def _identity(self, settings: Settings) -> dict:
        return {"genome (-R)": file_identity(self.genome_path), "annotation (-A)": file_identity(self.annotation),
                "regions": file_identity(self.bed) if self.bed else f"exons +-{self.flank}", "settings": repr(settings),
                "shard": f"{self.shard}/{self.shards}", "output": str(self._target().resolve())}

    def run(self, model, *, model_label: str = "", progress: bool = True) -> PrecomputeSummary:
        from tqdm import tqdm

        options = self.options
        scorer = VariantScorer(model, self.genome, self.genes, options)
        settings = Settings.of_run(model, model_label, scorer.width, options)
        header = settings.header_lines()
        if self.shards > 1:
            header.append(f"{SHARD_PREFIX}{self.shard}/{self.shards}")
        header_text = "\n".join([*header, "\t".join(columns(options.scores))]) + "\n"
        target = self._target()
        first, last = shard_bounds(self.total, self.shard, self.shards)
        files = RunFiles([Target(target, header_text, compress)], resume=self.resume, command="rerun",
                         identity=self._identity(settings))
        summary = PrecomputeSummary(resumed=files.done, regions=len(self.regions), skipped_intervals=self.skipped)
        bar = tqdm(total=last - first, initial=files.done, desc="precompute", unit=" positions", file=sys.stderr,
                   disable=not progress or not self.processes.is_main)
        try:
            todo = positions(self.regions, first + files.done, last)
            for chunk in chunks(todo, _POSITIONS_PER_CHUNK):
                records = []
                for contig, position in chunk:
                    base = self.genome.fetch(contig, position, position + 1)[0]
                    made = snv_records(contig, position, base)
                    summary.not_acgt += not made
                    records.extend(made)
                rows = [row for result in scorer.score_chunk(records) for row in result_rows(result, options.scores)]
                files.append(["".join("\t".join(row) + "\n" for row in rows)], len(chunk))
                summary.positions += len(chunk)
                summary.rows += len(rows)
                bar.update(len(chunk))
            bar.close()
            files.commit()
        except (KeyboardInterrupt, Exception) as error:
            files.close()
            interrupted = isinstance(error, KeyboardInterrupt)
            raise PartialRun("interrupted" if interrupted else (str(error) or type(error).__name__),
                             files.resume_hint(), interrupted) from error
        index(target)
        if self.processes.world > 1:
            self.processes.barrier()
            if self.processes.is_main:
                paths = [shard_file(self.output, k, self.shards) for k in range(1, self.shards + 1)]
                merge(paths, self.output)
                for path in paths:
                    path.unlink()
                    Path(f"{path}.tbi").unlink(missing_ok=True)
            self.processes.barrier()
        return summary


def _read_header(path: Path) -> list[str]:
    """The ``#`` lines that open a bgzipped precompute file (newlines kept)."""
    import gzip

    header = []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            header.append(line)
    return header


def _copy_rows(path: Path, handle) -> None:
    """Stream the row lines (not ``#``) of a bgzipped precompute file into ``handle``."""
    import gzip

    with gzip.open(path, "rt") as source:
        for line in source:
            if not line.startswith("#"):
                handle.write(line)


def merge(shards: Sequence[str | Path], output: str | Path) -> None:
    """One file from the shards of a run (any order): the same bytes as a one-process run. The
    headers are checked first; rows are streamed (memory does not grow with the shards)."""
    check_output_paths({"-O": str(output)}, {f"shard {i + 1}": str(p) for i, p in enumerate(shards)})
    parts = {}
    common = None
    for path in shards:
        path = Path(path)
        if not path.is_file():
            raise UserError(f"shard {path} does not exist")
        header = _read_header(path)
        marks = [line for line in header if line.startswith(SHARD_PREFIX)]
        if len(marks) != 1:
            raise UserError(f"{path} is not a shard of a precompute run (no {SHARD_PREFIX}K/N line)")
        shard, shards_total = parse_shard(marks[0][len(SHARD_PREFIX):].strip())
        rest = [line for line in header if not line.startswith(SHARD_PREFIX)]
        if common is None:
            common, expected = rest, shards_total
        elif rest != common or shards_total != expected:
            raise UserError(f"{path} comes from another run (its settings or shard count differ from "
                            f"{shards[0]}); merge the shards of one run")
        if shard in parts:
            raise UserError(f"shard {shard}/{shards_total} given twice ({parts[shard]} and {path})")
        parts[shard] = path
    missing = sorted(set(range(1, expected + 1)) - set(parts))
    if missing:
        raise UserError(f"shard(s) {missing} of {expected} missing: merge needs all of them")
    output = Path(output)
    text = Path(f"{output}.merge.tmp")
    staged = Path(f"{output}.merge.tmp.gz")
    try:
        with open(text, "w") as handle:
            handle.writelines(common)
            for shard in range(1, expected + 1):
                _copy_rows(parts[shard], handle)
        compress(text, staged)
        os.replace(staged, output)
    finally:
        text.unlink(missing_ok=True)
        staged.unlink(missing_ok=True)
    index(output)
