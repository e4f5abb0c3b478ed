"""Scoring verbs: ``score`` (a VCF), ``ism`` (every substitution of a region), ``fill-mask`` and
``example`` (a converted checkpoint's predictions on the bundled donor site)."""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

from ..errors import UsageError, UserError

log = logging.getLogger("splicebert_plugin")


def _read_sequence(args) -> tuple[str, str]:
    """``(title, sequence)`` of --sequence, --fasta or the bundled example."""
    from ..io.fasta import read_one_sequence
    from ..splicebert.tokenization import encode

    if args.sequence is not None:
        shown = args.sequence if len(args.sequence) <= 20 else f"{args.sequence[:17]}..."
        title, sequence, given = "--sequence", args.sequence, f"--sequence {shown!r}"
    elif args.fasta is None:
        title, sequence = read_one_sequence(example_file("TRAK1_exon1_donor_510nt.fa"))
        given = "the bundled example"
    else:
        title, sequence = read_one_sequence(args.fasta)
        given = f"--fasta {args.fasta} (record {title})"
    try:
        encode(sequence)  # checked before any model is loaded
    except UserError as error:
        raise UsageError(f"{given}: {error}") from None
    return title, sequence


def _print_fill_mask(model, header, sequence, positions) -> None:
    from ..splicebert.inference import fill_mask

    probabilities = fill_mask(model, sequence, positions)
    print(f"# {header}")
    print("position\tref\tP(A)\tP(C)\tP(G)\tP(T)\tpredicted")
    for position, row in zip(positions, probabilities, strict=True):
        best = "ACGT"[int(row.argmax())]
        values = "\t".join(f"{p:.4f}" for p in row)
        print(f"{position}\t{sequence[position].upper()}\t{values}\t{best}")


def _parse_positions(text: str | None, length: int) -> list[int]:
    if text is None:
        return [length // 2, length // 2 + 1]
    try:
        return [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise UsageError(f"--positions must be comma-separated 0-based integers, got {text!r}") from None


def cmd_fill_mask(args) -> int:
    from ..checkpoints.resolve import resolve_model

    header, sequence = _read_sequence(args)
    positions = _parse_positions(args.positions, len(sequence))
    model, _ = resolve_model(args.model, device=args.device, offline=args.offline, revision=args.revision)
    _print_fill_mask(model, header, sequence, positions)
    return 0


def cmd_example(args) -> int:
    """Convert a checkpoint, load it both ways, and fill in masked bases of a real donor site."""
    from transformers import AutoModelForMaskedLM

    from ..checkpoints import convert_checkpoint, write_random_original_checkpoint
    from ..splicebert.inference import fill_mask

    header, sequence = _read_sequence(args)
    positions = _parse_positions(args.positions, len(sequence))
    with tempfile.TemporaryDirectory() as tmp:
        source = args.model
        if source is None:
            print("# no -m given: using RANDOM weights in the original SpliceBERT.510nt layout; the "
                  "probabilities below demonstrate the pipeline and mean nothing")
            source = write_random_original_checkpoint(Path(tmp) / "SpliceBERT.510nt", seed=args.seed)
        converted = convert_checkpoint(source, Path(tmp) / "converted")
        print(f"# converted {source} -> Hub folder with {sorted(p.name for p in converted.iterdir())}")
        native = AutoModelForMaskedLM.from_pretrained(str(converted))
        remote = AutoModelForMaskedLM.from_pretrained(str(converted), trust_remote_code=True)
        _print_fill_mask(native, header, sequence, positions)
        gap = abs(fill_mask(native, sequence, positions) - fill_mask(remote, sequence, positions)).max()
        print(f"# same probabilities through trust_remote_code (max abs difference {gap:.1e})")
    return 0


def example_file(name: str) -> str:
    """Path of a file of the bundled example (hg19 chr19 slice, genes, variants)."""
    from importlib import resources

    return str(resources.files("splicebert_plugin").joinpath("resources", "example", name))


def _scoring_options(args, **more):
    """The ``ScoringOptions`` of ``score`` / ``precompute``'s shared flags (checked there)."""
    from ..scoring.passes import ScoringOptions

    scores = tuple(s.strip().upper() for s in args.scores.split(",") if s.strip())
    return ScoringOptions(width=args.window, mode=args.mode, scores=scores, batch_size=args.batch_size,
                          precision=args.precision, **more)


def cmd_score(args) -> int:
    from ..checkpoints.resolve import DEMO_LABEL, resolve_model
    from ..scoring.vcf_job import VcfScoringJob

    if args.example:
        args.input = args.input if args.input != "-" else example_file("variants.vcf")
        args.reference = args.reference or example_file("hg19_chr19_1-560000.fa")
        args.annotation = args.annotation or example_file("genes.tsv")
    missing = [flag for flag, value in (("-R", args.reference), ("-A", args.annotation)) if value is None]
    if missing:
        raise UsageError(f"{' and '.join(missing)} required (or --example for the bundled example)")
    options = _scoring_options(args, chunk_size=args.chunk_size)
    # every input and output is checked before the model loads: a bad invocation fails at once
    with VcfScoringJob(args.input, args.output, args.reference, args.annotation, options=options,
                       table=args.table, resume=args.resume, precomputed=args.precomputed or ()) as job:
        model, label = resolve_model(args.model, device=args.device, offline=args.offline, revision=args.revision)
        if label == DEMO_LABEL:
            log.warning("scoring with the bundled demo model (a small model trained for demonstration, not the "
                        "paper's weights); pass -m with the released SpliceBERT weights for research")
        summary = job.run(model, model_label=label, progress=not args.quiet)
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(summary.reasons.items())) or "none"
    resumed = f" after {summary.resumed} resumed" if summary.resumed else ""
    print(f"splicebert score: {summary.records} records{resumed}, {summary.scored_records} scored "
          f"({summary.entries} allele x gene entries); not scored: {reasons}", file=sys.stderr)
    return 0


def cmd_precompute(args) -> int:
    from ..checkpoints.resolve import resolve_model
    from ..scoring.precompute_job import PrecomputeJob

    options = _scoring_options(args)
    with PrecomputeJob(args.reference, args.annotation, args.output, bed=args.bed, flank=args.flank,
                       options=options, shard=args.shard, resume=args.resume) as job:
        model, label = resolve_model(args.model, device=args.device, offline=args.offline, revision=args.revision)
        summary = job.run(model, model_label=label, progress=not args.quiet)
    if job.processes.is_main:
        shard = f" (shard {job.shard}/{job.shards})" if job.shards > 1 else ""
        skipped = (f"; BED lines on contigs the genome lacks: {sum(summary.skipped_intervals.values())}"
                   if summary.skipped_intervals else "")
        resumed = f" after {summary.resumed} resumed" if summary.resumed else ""
        print(f"splicebert precompute: {summary.positions} positions{resumed} of {job.total} in "
              f"{summary.regions} regions{shard}, {summary.rows} rows; positions without an A/C/G/T reference: "
              f"{summary.not_acgt}{skipped} -> {args.output}", file=sys.stderr)
    return 0


def cmd_precompute_merge(args) -> int:
    from ..scoring.precompute_job import merge

    merge(args.shards, args.output)
    print(f"splicebert precompute-merge: {len(args.shards)} shards -> {args.output} (+ .tbi)", file=sys.stderr)
    return 0


def cmd_ism(args) -> int:
    from ..analysis.ism import genome_region, in_silico_mutagenesis, plot_ism, sequence_region, write_ism
    from ..checkpoints.resolve import resolve_model
    from ..scoring.passes import ScoringOptions

    options = ScoringOptions(width=args.window, batch_size=args.batch_size, precision=args.precision)  # checked
    if args.region is not None and args.reference is None:
        raise UsageError("--region needs the genome: -R genome.fa")
    if args.region is not None and (args.region_start is not None or args.region_end is not None):
        raise UsageError("--region (genome) and --region-start/--region-end (sequence) exclude each other")
    if args.region is None:
        title, sequence = _read_sequence(args)
        target = sequence_region(sequence, title, args.region_start, args.region_end)
    model, _ = resolve_model(args.model, device=args.device, offline=args.offline, revision=args.revision)
    width = options.width_for(model)
    if args.region is not None:
        from ..io.genome import Genome

        with Genome(args.reference) as genome:
            target = genome_region(genome, args.region, args.strand, width=width, context=options.context)
    result = in_silico_mutagenesis(model, target.sequence, target.region_start, target.region_end, width=width,
                                   context=options.context, batch_size=options.batch_size,
                                   precision=options.precision)
    write_ism(result, target.positions, args.output, args.summary)
    if args.plot:
        plot_ism(result, args.plot, title=target.title, offset=0)
    print(f"splicebert ism: {len(result.reference)} positions x 3 alleles -> {args.output}"
          + (f", {args.summary}" if args.summary else "") + (f", {args.plot}" if args.plot else ""), file=sys.stderr)
    return 0
