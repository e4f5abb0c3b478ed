"""The ``splicebert`` command line: thin subcommands over library functions."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

log = logging.getLogger("splicebert_plugin")


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit status 2."""


def _cmd_convert(args) -> int:
    from .checkpoints import convert_checkpoint

    dst = convert_checkpoint(args.src, args.dst, overwrite=args.force)
    print(f"wrote {dst} (load with AutoModelForMaskedLM.from_pretrained({str(dst)!r}))")
    return 0


def _export(args, name: str, export, drifted) -> int:
    """Write a generated folder, or with --check report whether it drifted."""
    if args.check:
        drift = drifted(args.out)
        if drift:
            print(f"{args.out} differs from a fresh export: {', '.join(drift)}; "
                  f"run 'splicebert {name} --out {args.out}'", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    for folder in export(args.out):
        print(f"wrote {folder}")
    return 0


def _cmd_export_hub_models(args) -> int:
    from .hub_export import drifted_files, export_hub_models

    return _export(args, "export-hub-models", export_hub_models, drifted_files)


def _cmd_export_kipoi_models(args) -> int:
    from .kipoi_export import drifted_files, export_kipoi_models

    return _export(args, "export-kipoi-models", export_kipoi_models, drifted_files)


def _read_sequence(args) -> tuple[str, str]:
    if args.sequence is not None:
        return "sequence", args.sequence
    from importlib import resources

    if args.fasta is None:
        handle = resources.files(__package__).joinpath("resources", "example", "TRAK1_exon1_donor_510nt.fa")
        text, name = handle.read_text(), "bundled example"
    else:
        path = Path(args.fasta)
        if not path.is_file():
            raise UsageError(f"FASTA file {path} does not exist")
        text, name = path.read_text(), str(path)
    lines = text.splitlines()
    if not lines or not lines[0].startswith(">"):
        raise UsageError(f"{name} is not FASTA: the first line must start with '>'")
    header = lines[0][1:].strip()
    sequence = "".join(line.strip() for line in lines[1:] if not line.startswith(">"))
    return header, sequence


def _print_fill_mask(model, header, sequence, positions) -> None:
    from .inference import fill_mask

    probabilities = fill_mask(model, sequence, positions)
    print(f"# {header}")
    print("position\tref\tP(A)\tP(C)\tP(G)\tP(T)\tpredicted")
    for position, row in zip(positions, probabilities):
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


def _cmd_fill_mask(args) -> int:
    from .score_vcf import resolve_model

    header, sequence = _read_sequence(args)
    model, _ = resolve_model(args.model)
    _print_fill_mask(model, header, sequence, _parse_positions(args.positions, len(sequence)))
    return 0


def _cmd_example(args) -> int:
    """Convert a checkpoint, load it both ways, and fill in masked bases of a real donor site."""
    from transformers import AutoModelForMaskedLM

    from .checkpoints import convert_checkpoint, write_random_original_checkpoint
    from .inference import fill_mask

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


def _example_file(name: str) -> str:
    from importlib import resources

    return str(resources.files(__package__).joinpath("resources", "example", name))


def _cmd_score(args) -> int:
    from .score_vcf import resolve_model, score_vcf
    from .scoring import ScoringOptions

    if args.example:
        args.input = args.input if args.input != "-" else _example_file("variants.vcf")
        args.reference = args.reference or _example_file("hg19_chr19_1-560000.fa")
        args.annotation = args.annotation or _example_file("genes.tsv")
    missing = [flag for flag, value in (("-R", args.reference), ("-A", args.annotation)) if value is None]
    if missing:
        raise UsageError(f"{' and '.join(missing)} required (or --example for the bundled example)")
    scores = tuple(s.strip().upper() for s in args.scores.split(",") if s.strip())
    options = ScoringOptions(width=args.window, mode=args.mode, scores=scores, batch_size=args.batch_size,
                             chunk_size=args.chunk_size)
    model, label = resolve_model(args.model, device=args.device)
    if args.model in (None, "demo"):
        log.warning("scoring with the bundled demo model (a small model trained for demonstration, not the "
                    "paper's weights); pass -m with the released SpliceBERT weights for research")
    summary = score_vcf(
        model, args.input, args.output, args.reference, args.annotation,
        options=options, table=args.table, model_label=label, progress=not args.quiet,
    )
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(summary.reasons.items())) or "none"
    print(f"splicebert score: {summary.records} records, {summary.scored_records} scored "
          f"({summary.entries} allele x gene entries); not scored: {reasons}", file=sys.stderr)
    return 0


def _parse_region(text: str) -> tuple[str, int, int]:
    try:
        contig, span = text.rsplit(":", 1)
        start, end = (int(x.replace(",", "")) for x in span.split("-"))
    except ValueError:
        raise UsageError(f"--region must look like chr19:308700-308900 (1-based, inclusive), got {text!r}") from None
    if end < start:
        raise UsageError(f"--region {text!r} ends before it starts")
    return contig, start, end


def _cmd_ism(args) -> int:
    import csv

    from .ism import in_silico_mutagenesis, ism_table_rows, plot_ism
    from .score_vcf import resolve_model
    from .windows import orient

    model, _ = resolve_model(args.model, device=args.device)
    width = args.window or model.config.max_position_embeddings - 2
    context = 100
    if args.region:
        from .io.contigs import ContigMap
        from .io.genome import Genome

        if args.reference is None:
            raise UsageError("--region needs the genome: -R genome.fa")
        contig, start1, end1 = _parse_region(args.region)
        with Genome(args.reference) as genome:
            name = ContigMap(genome.contigs, f"genome {args.reference}").get(contig)
            if name is None:
                raise UsageError(f"contig {contig!r} is not in {args.reference} (its contigs: {genome.contigs[:8]})")
            length = end1 - start1 + 1
            pad = max(context, (width - length + 1) // 2 + 1)
            sequence, _ = genome.fetch(name, start1 - 1 - pad, end1 + pad)
        sequence = orient(sequence, args.strand)
        region = (pad, pad + length)
        # genomic 1-based position of each region index, in transcript order
        positions = list(range(start1, end1 + 1)) if args.strand == "+" else list(range(end1, start1 - 1, -1))
        title = f"{contig}:{start1}-{end1} ({args.strand})"
    else:
        header, sequence = _read_sequence(args)
        if args.region_start is None:
            mid = len(sequence) // 2
            region = (mid - 20, mid + 20)
        else:
            region = (args.region_start, args.region_end)
        positions = list(range(*region))
        title = header
    result = in_silico_mutagenesis(model, sequence, *region, width=width, context=context,
                                   batch_size=args.batch_size)
    with open(args.output, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["POSITION", "REF", "ALT", "KL_CONTEXT", "MAX_KL"])
        for index, ref, alt, kl_context, max_kl in ism_table_rows(result):
            writer.writerow([positions[index], ref, alt, f"{kl_context:.6f}", f"{max_kl:.6g}"])
    if args.summary:
        with open(args.summary, "w") as handle:
            handle.write("POSITION\tREF\tMAX_KL_CONTEXT\n")
            for index, (ref, value) in enumerate(zip(result.reference, result.summary)):
                handle.write(f"{positions[index]}\t{ref}\t{value:.6f}\n")
    if args.plot:
        plot_ism(result, args.plot, title=title, offset=0)
    print(f"splicebert ism: {len(result.reference)} positions x 3 alleles -> {args.output}"
          + (f", {args.summary}" if args.summary else "") + (f", {args.plot}" if args.plot else ""), file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="splicebert", description="SpliceBERT for RNA splicing: models and tools.")
    parser.add_argument("--version", action="version", version=f"splicebert-plugin {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("convert", help="convert a SpliceBERT checkpoint folder to a Hub-ready folder")
    p.add_argument("src", help="checkpoint folder (original release format or ours)")
    p.add_argument("dst", help="new folder to write")
    p.add_argument("--force", action="store_true", help="overwrite a non-empty destination")
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser("score", help="zero-shot splicing scores of the variants in a VCF (SpliceAI-style)")
    p.add_argument("-I", "--input", default="-", help="input VCF (.vcf, .vcf.gz, .bcf; default: stdin)")
    p.add_argument("-O", "--output", default="-", help="output VCF (.vcf or bgzipped .vcf.gz; default: stdout)")
    p.add_argument("-R", "--reference", help="genome FASTA with .fai index (plain or bgzip)")
    p.add_argument("-A", "--annotation", help="gene annotation: GTF, GFF3 or a SpliceAI table")
    p.add_argument("-m", "--model", help="SpliceBERT checkpoint folder, Hub id, or 'demo' (default: the bundled demo model)")
    p.add_argument("--table", help="also write one row per ALT x gene to this .tsv[.gz] or .parquet file")
    p.add_argument("--scores", default="KL_CONTEXT,MAX_KL,SPLICE_SITE_KL",
                   help="comma-separated: KL_CONTEXT, MAX_KL, SPLICE_SITE_KL, DELTA_P (one more pass)")
    p.add_argument("--mode", default="variant", choices=["variant", "exon"],
                   help="window centred on the variant (default) or on its nearest exon (paper's Vex-seq/MFASS)")
    p.add_argument("--window", type=int, help="window width in nt (default: the model's length, e.g. 510)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--chunk-size", type=int, default=256,
                   help="records read and scored together (the unit shared out between processes)")
    p.add_argument("--device", help="torch device (default: cuda if available, else cpu)")
    p.add_argument("--example", action="store_true", help="score the bundled example (hg19 chr19 slice)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("ism", help="in-silico mutagenesis of a region: KL-context of every substitution")
    p.add_argument("-m", "--model", help="SpliceBERT checkpoint folder, Hub id, or 'demo' (default)")
    p.add_argument("-R", "--reference", help="genome FASTA (with --region)")
    p.add_argument("--region", help="chr:start-end, 1-based inclusive (with -R)")
    p.add_argument("--strand", default="+", choices=["+", "-"], help="transcript strand of the region")
    add_sequence_args_ism = p.add_argument_group("or a sequence")
    add_sequence_args_ism.add_argument("--sequence", help="transcript-oriented sequence")
    add_sequence_args_ism.add_argument("--fasta", help="FASTA with one transcript-oriented sequence")
    add_sequence_args_ism.add_argument("--region-start", type=int, help="0-based start in the sequence")
    add_sequence_args_ism.add_argument("--region-end", type=int, help="0-based end (exclusive)")
    p.add_argument("-O", "--output", required=True, help="table: one row per position x alternative base")
    p.add_argument("--summary", help="table: one row per position (max KL-context over the alleles)")
    p.add_argument("--plot", help="heatmap PNG")
    p.add_argument("--window", type=int, help="window width (default: the model's length)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--device")
    p.add_argument("--example", action="store_true", help="the bundled TRAK1 donor window, 40 nt around the donor")
    p.set_defaults(func=_cmd_ism)

    p = sub.add_parser("export-hub-models", help="(re)generate the hub_models/ folders from the package")
    p.add_argument("--out", default="hub_models", help="output folder (default: hub_models)")
    p.add_argument("--check", action="store_true", help="only check that --out matches a fresh export")
    p.set_defaults(func=_cmd_export_hub_models)

    p = sub.add_parser("export-kipoi-models", help="(re)generate the kipoi_models/ packages")
    p.add_argument("--out", default="kipoi_models", help="output folder (default: kipoi_models)")
    p.add_argument("--check", action="store_true", help="only check that --out matches a fresh export")
    p.set_defaults(func=_cmd_export_kipoi_models)

    def add_sequence_args(p):
        p.add_argument("--sequence", help="nucleotide sequence (default: the bundled example)")
        p.add_argument("--fasta", help="FASTA file with one sequence (default: the bundled example)")
        p.add_argument("--positions", help="comma-separated 0-based positions to mask (default: the centre two)")

    p = sub.add_parser("fill-mask", help="probabilities of A/C/G/T at masked positions of a sequence")
    p.add_argument("-m", "--model", help="SpliceBERT checkpoint folder, Hub id, or 'demo' (default)")
    add_sequence_args(p)
    p.set_defaults(func=_cmd_fill_mask)

    p = sub.add_parser("example", help="convert + load + fill-mask on a bundled real donor site")
    p.add_argument("-m", "--model", help="SpliceBERT checkpoint folder (default: random weights, a demo)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random demo weights")
    add_sequence_args(p)
    p.set_defaults(func=_cmd_example)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    from .checkpoints import CheckpointError
    from .io.vcf import VcfFormatError
    from .tokenization import InvalidSequenceError

    try:
        return args.func(args)
    except (UsageError, CheckpointError, InvalidSequenceError, VcfFormatError, FileNotFoundError, ValueError) as error:
        print(f"splicebert {args.command}: error: {error}", file=sys.stderr)
        return 2
