"""The ``splicebert`` command line: thin subcommands over library functions.

Exit status: 0 success; 2 a problem with the input or the environment, printed as one line
(``-v`` adds the traceback); 1 an unexpected error (a bug: please report it with ``-v``); 141
when the reader of standard output goes away (``| head``), quietly, as other Unix tools do.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
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


def _cmd_download(args) -> int:
    from .builtin_annotations import SOURCES, builtin_table
    from .downloads import cache_dir
    from .weights import describe_cache, download_releases, mirror

    if args.list:
        print(f"cache: {cache_dir()}")
        print(describe_cache())
        return 0
    if not args.names and not args.annotation:
        raise UsageError("name the models to fetch (SpliceBERT.510nt, SpliceBERT.1024nt, SpliceBERT-human.510nt, "
                         "or all) and/or --annotation grch37|grch38; --list shows the cache")
    if (args.source is None) != (args.md5 is None):
        raise UsageError("--from URL needs --md5 HEX (the archive's checksum), and --md5 needs --from")
    for name in args.annotation or []:
        if name.lower() not in SOURCES:
            raise UsageError(f"--annotation {name!r}: choose grch37 or grch38")
    if args.names:
        kwargs = {} if args.source is None else {"source": mirror(args.source, args.md5)}
        for folder in download_releases(args.names, force=args.force, progress=not args.quiet, **kwargs):
            print(f"{folder.name}\t{folder}")
    for name in args.annotation or []:
        print(f"{name}\t{builtin_table(name, progress=not args.quiet)}")
    return 0


def _parse_layers(text: str, model) -> list[int]:
    count = model.config.num_hidden_layers
    if text == "all":
        return list(range(count + 1))
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"--layer must be 'all' or comma-separated integers 0-{count}, got {text!r}") from None


def _cmd_embed(args) -> int:
    from collections import Counter

    from .analysis.jobs import embed_job, site_windows
    from .io.bed import read_sites
    from .io.fasta import read_fasta
    from .loading import resolve_model

    if (args.fasta is None) == (args.sites is None):
        raise UsageError("give the sequences with --fasta, or the sites with --sites (and -R genome)")
    if args.sites is not None and args.reference is None:
        raise UsageError("--sites needs the genome: -R genome.fa")
    pool = None if args.pool == "none" else args.pool
    if pool is None and (args.report or args.umap):
        raise UsageError("the layer report and the UMAP picture need one vector per site: --pool mean or center")
    skipped = Counter()
    genome = None
    if args.fasta is not None:
        count = sum(1 for _ in read_fasta(args.fasta))  # a first pass checks the input and sizes the outputs
    else:
        from .io.genome import Genome

        sum(1 for _ in read_sites(args.sites))  # the whole BED is checked before the model loads
        genome = Genome(args.reference)
    try:
        model, _ = resolve_model(args.model, device=args.device, offline=args.offline, revision=args.revision)
        layers = _parse_layers(args.layer, model)
        if genome is None:
            inputs = read_fasta(args.fasta)
        else:
            width = args.window or model.config.max_position_embeddings - 2
            if not 1 <= width <= model.config.max_position_embeddings - 2:
                raise UsageError(f"--window {width} must be 1 to {model.config.max_position_embeddings - 2}")
            count = sum(1 for _ in site_windows(genome, read_sites(args.sites), width, Counter()))
            inputs = site_windows(genome, read_sites(args.sites), width, skipped)  # streamed
        summary = embed_job(model, inputs, count, layers=layers, pool=pool, output=args.output,
                            label_field=args.label_field, report=args.report, umap=args.umap,
                            umap_layer=args.umap_layer, batch_size=args.batch_size, progress=not args.quiet)
    finally:
        if genome is not None:
            genome.close()
    notes = f"; skipped: {dict(skipped)}" if skipped else ""
    print(f"splicebert embed: {summary['sequences']} sequences x layers {summary['layers']} -> {args.output}{notes}",
          file=sys.stderr)
    return 0


def _cmd_attention(args) -> int:
    from .analysis.jobs import attention_job
    from .io.genome import Genome
    from .loading import resolve_model

    pair_files = []
    for item in args.pairs:
        path, _, group = item.partition(":") if ":" in item and not Path(item).exists() else (item, "", "")
        pair_files.append((path, group or Path(path).name.split(".")[0]))
    with Genome(args.reference) as genome:
        for path, _ in pair_files:
            if not Path(path).is_file():
                raise UsageError(f"--pairs {path} does not exist")
        model, _ = resolve_model(args.model, device=args.device, offline=args.offline, revision=args.revision)
        width = args.window or model.config.max_position_embeddings - 2
        result = attention_job(model, genome, pair_files, width=width, output=args.output, summary=args.summary,
                               plot=args.plot, background=args.background, batch_size=args.batch_size,
                               seed=args.seed, progress=not args.quiet)
    skipped = ", ".join(f"{n} {reason}" for reason, n in result["skipped"].items()) or "none"
    print(f"splicebert attention: {result['pairs']} pairs -> {args.output}; skipped: {skipped}", file=sys.stderr)
    return 0


def _cmd_evaluate(args) -> int:
    from .analysis.jobs import evaluate_job

    higher = {"higher": True, "lower": False, None: None}[args.direction]
    result = evaluate_job(args.table, args.labels, score=args.score, higher_is_disruptive=higher,
                          annotation=args.annotation, output=args.output, plot=args.plot, n_boot=args.bootstrap,
                          seed=args.seed)
    print(f"# {result['labelled']} labelled variants, {result['scored']} scored, {result['unscored']} without a score "
          f"({result['unscored_positives']} of them positive); joined on {'/'.join(result['joined_on'])}")
    print("score\tn\tpositives\tAP\tAP 95% CI\tAUROC\tAUROC 95% CI")
    for name, r in result["results"].items():
        print(f"{name}\t{r['n']}\t{r['positives']}\t{r['ap']:.4f}\t{r['ap_low']:.4f}-{r['ap_high']:.4f}\t"
              f"{r['auroc']:.4f}\t{r['auroc_low']:.4f}-{r['auroc_high']:.4f}")
    return 0


def _cmd_export_hub_models(args) -> int:
    from .hub_export import drifted_files, export_hub_models

    return _export(args, "export-hub-models", export_hub_models, drifted_files)


def _cmd_export_kipoi_models(args) -> int:
    from .kipoi_export import drifted_files, export_kipoi_models

    return _export(args, "export-kipoi-models", export_kipoi_models, drifted_files)


def _read_sequence(args) -> tuple[str, str]:
    """``(title, sequence)`` of --sequence, --fasta or the bundled example."""
    from .io.fasta import read_one_sequence
    from .tokenization import encode

    if args.sequence is not None:
        title, sequence = "sequence", args.sequence
    elif args.fasta is None:
        title, sequence = read_one_sequence(example_file("TRAK1_exon1_donor_510nt.fa"))
    else:
        title, sequence = read_one_sequence(args.fasta)
    encode(sequence)  # checked before any model is loaded
    return title, sequence


def _print_fill_mask(model, header, sequence, positions) -> None:
    from .inference import fill_mask

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


def _cmd_fill_mask(args) -> int:
    from .loading import resolve_model

    header, sequence = _read_sequence(args)
    positions = _parse_positions(args.positions, len(sequence))
    model, _ = resolve_model(args.model, device=args.device, offline=args.offline, revision=args.revision)
    _print_fill_mask(model, header, sequence, positions)
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


def example_file(name: str) -> str:
    """Path of a file of the bundled example (hg19 chr19 slice, genes, variants)."""
    from importlib import resources

    return str(resources.files(__package__).joinpath("resources", "example", name))


def _cmd_score(args) -> int:
    from .loading import DEMO_LABEL, resolve_model
    from .score_vcf import VcfScoringJob
    from .scoring import ScoringOptions

    if args.example:
        args.input = args.input if args.input != "-" else example_file("variants.vcf")
        args.reference = args.reference or example_file("hg19_chr19_1-560000.fa")
        args.annotation = args.annotation or example_file("genes.tsv")
    missing = [flag for flag, value in (("-R", args.reference), ("-A", args.annotation)) if value is None]
    if missing:
        raise UsageError(f"{' and '.join(missing)} required (or --example for the bundled example)")
    scores = tuple(s.strip().upper() for s in args.scores.split(",") if s.strip())
    options = ScoringOptions(width=args.window, mode=args.mode, scores=scores, batch_size=args.batch_size,
                             chunk_size=args.chunk_size)
    # every input and output is checked before the model loads: a bad invocation fails at once
    with VcfScoringJob(args.input, args.output, args.reference, args.annotation, options=options,
                       table=args.table, resume=args.resume) as job:
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


def _cmd_ism(args) -> int:
    from .ism import genome_region, in_silico_mutagenesis, plot_ism, sequence_region, write_ism
    from .loading import resolve_model
    from .scoring import ScoringOptions

    options = ScoringOptions(width=args.window, batch_size=args.batch_size)  # checks --window, --batch-size
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
        from .io.genome import Genome

        with Genome(args.reference) as genome:
            target = genome_region(genome, args.region, args.strand, width=width, context=options.context)
    result = in_silico_mutagenesis(model, target.sequence, target.region_start, target.region_end, width=width,
                                   context=options.context, batch_size=options.batch_size)
    write_ism(result, target.positions, args.output, args.summary)
    if args.plot:
        plot_ism(result, args.plot, title=target.title, offset=0)
    print(f"splicebert ism: {len(result.reference)} positions x 3 alleles -> {args.output}"
          + (f", {args.summary}" if args.summary else "") + (f", {args.plot}" if args.plot else ""), file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .scoring import DEFAULT_SCORES, ScoringOptions

    defaults = ScoringOptions()
    parser = argparse.ArgumentParser(prog="splicebert", description="SpliceBERT for RNA splicing: models and tools.")
    parser.add_argument("--version", action="version", version=f"splicebert-plugin {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail (and tracebacks) to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("convert", help="convert a SpliceBERT checkpoint folder to a Hub-ready folder")
    p.add_argument("src", help="checkpoint folder (original release format or ours)")
    p.add_argument("dst", help="new folder to write")
    p.add_argument("--force", action="store_true", help="overwrite a non-empty destination")
    p.set_defaults(func=_cmd_convert)

    model_help = ("release name (SpliceBERT.510nt, SpliceBERT.1024nt, SpliceBERT-human.510nt: fetched once), "
                  "checkpoint folder, Hub id, or 'demo' (default: the bundled demo model)")

    def add_model_args(p):
        p.add_argument("-m", "--model", help=model_help)
        p.add_argument("--offline", action="store_true",
                       help="never download (as HF_HUB_OFFLINE=1): use the cache only")
        p.add_argument("--revision", help="Hub revision of a Hub model (MultiMolecule's ports are pinned by default)")
        p.add_argument("--device", help="torch device (default: cuda if available, else cpu)")
    p = sub.add_parser("score", help="zero-shot splicing scores of the variants in a VCF (SpliceAI-style)")
    p.add_argument("-I", "--input", default="-", help="input VCF (.vcf, .vcf.gz, .bcf; default: stdin)")
    p.add_argument("-O", "--output", default="-", help="output VCF (.vcf or bgzipped .vcf.gz; default: stdout)")
    p.add_argument("-R", "--reference", help="genome FASTA with .fai index (plain or bgzip)")
    p.add_argument("-A", "--annotation",
                   help="gene annotation: GTF, GFF3, a SpliceAI table, or grch37 / grch38 (GENCODE canonical "
                        "transcripts, fetched once)")
    add_model_args(p)
    p.add_argument("--table", help="also write one row per ALT x gene to this .tsv[.gz] or .parquet file")
    p.add_argument("--scores", default=",".join(DEFAULT_SCORES),
                   help="comma-separated: KL_CONTEXT, MAX_KL, SPLICE_SITE_KL, DELTA_P (one more pass)")
    p.add_argument("--mode", default=defaults.mode, choices=["variant", "exon"],
                   help="window centred on the variant (default) or on its nearest exon (paper's Vex-seq/MFASS)")
    p.add_argument("--window", type=int, help="window width in nt (default: the model's length, e.g. 510)")
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    p.add_argument("--chunk-size", type=int, default=defaults.chunk_size,
                   help="records read and scored together (the unit shared out between processes)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from its .partial output (same command otherwise)")
    p.add_argument("--example", action="store_true", help="score the bundled example (hg19 chr19 slice)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("ism", help="in-silico mutagenesis of a region: KL-context of every substitution")
    add_model_args(p)
    p.add_argument("-R", "--reference", help="genome FASTA (with --region)")
    p.add_argument("--region", help="chr:start-end, 1-based inclusive (with -R)")
    p.add_argument("--strand", default="+", choices=["+", "-"], help="transcript strand of the region")
    group = p.add_argument_group("or a sequence")
    group.add_argument("--sequence", help="transcript-oriented sequence")
    group.add_argument("--fasta", help="FASTA with one transcript-oriented sequence")
    group.add_argument("--region-start", type=int, help="0-based start in the sequence")
    group.add_argument("--region-end", type=int, help="0-based end (exclusive)")
    p.add_argument("-O", "--output", required=True, help="table: one row per position x alternative base")
    p.add_argument("--summary", help="table: one row per position (max KL-context over the alleles)")
    p.add_argument("--plot", help="heatmap PNG")
    p.add_argument("--window", type=int, help="window width (default: the model's length)")
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    p.set_defaults(func=_cmd_ism)

    p = sub.add_parser("embed", help="nucleotide embeddings (hidden states of any layer) of sequences or genome sites")
    add_model_args(p)
    p.add_argument("--fasta", help="sequences to embed (one vector set per record)")
    p.add_argument("--sites", help="BED of sites: a window centred on each site, on its strand (with -R)")
    p.add_argument("-R", "--reference", help="genome FASTA (with --sites)")
    p.add_argument("--layer", default="4", help="layer(s): 0 = embedding output ... n, comma-separated, or all "
                                                 "(default 4, the paper's best for splice sites)")
    p.add_argument("--pool", default="center", choices=["none", "mean", "center"],
                   help="none: every nucleotide; mean; center: the nucleotide at the window centre (default)")
    p.add_argument("--window", type=int, help="window around each site (default: the model's length)")
    p.add_argument("-O", "--output", required=True, help=".npy (one layer), .h5 or .parquet")
    p.add_argument("--label-field", type=int, help="label = this '|'-separated field of the site name "
                                                   "(default: the whole name)")
    p.add_argument("--report", help="per-layer table: k-means NMI/ARI and logistic AUROC of the labels")
    p.add_argument("--umap", help="UMAP picture (PNG) coloured by label")
    p.add_argument("--umap-layer", type=int, help="layer of the UMAP picture (default 4)")
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_embed)

    p = sub.add_parser("attention", help="attention between paired sites (donor and acceptor of an intron)")
    add_model_args(p)
    p.add_argument("-R", "--reference", required=True, help="genome FASTA")
    p.add_argument("--pairs", action="append", required=True, metavar="BEDPE[:GROUP]",
                   help="site pairs (BEDPE); GROUP names them in the summary (default: the file name)")
    p.add_argument("-O", "--output", required=True, help="table: one row per pair and layer (max over heads, head)")
    p.add_argument("--summary", help="table: per group and layer, mean attention and ratio to background")
    p.add_argument("--plot", help="PNG: per layer, the pairs' attention next to the background")
    p.add_argument("--background", type=int, default=10, help="random position pairs per window (default 10)")
    p.add_argument("--window", type=int, help="window width (default: the model's length)")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_attention)

    p = sub.add_parser("evaluate", help="AP and AUROC (bootstrap CIs) of a score against labelled variants")
    p.add_argument("--table", required=True, help="scores: the --table of splicebert score (.tsv or .parquet)")
    p.add_argument("--labels", required=True, help="TSV with ID or CHROM POS REF ALT, and LABEL (0/1)")
    p.add_argument("--score", default="KL_CONTEXT", help="score column (default KL_CONTEXT)")
    direction = p.add_mutually_exclusive_group()
    direction.add_argument("--higher-is-disruptive", dest="direction", action="store_const", const="higher",
                           help="(default for every score but DELTA_P)")
    direction.add_argument("--lower-is-disruptive", dest="direction", action="store_const", const="lower",
                           help="(default for DELTA_P)")
    p.add_argument("-A", "--annotation", help="also evaluate the distance to the nearest annotated splice site")
    p.add_argument("-O", "--output", help="the numbers as .tsv or .json")
    p.add_argument("--plot", help="precision-recall curves (PNG)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_evaluate, direction=None)

    p = sub.add_parser("download", help="fetch the released weights (and built-in annotations) into the cache")
    p.add_argument("names", nargs="*", metavar="NAME",
                   help="SpliceBERT.510nt, SpliceBERT.1024nt, SpliceBERT-human.510nt (any case) or all")
    p.add_argument("--from", dest="source", metavar="URL",
                   help="a mirror or local copy of the authors' models.tar.gz (http(s):// or file://)")
    p.add_argument("--md5", help="the MD5 of the archive given with --from")
    p.add_argument("--annotation", action="append", metavar="ASSEMBLY",
                   help="also derive the built-in annotation grch37 or grch38 (GENCODE canonical transcripts)")
    p.add_argument("--force", action="store_true", help="fetch again what is already cached")
    p.add_argument("--list", action="store_true", help="show what is in the cache, and where")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_download)

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
    add_model_args(p)
    add_sequence_args(p)
    p.set_defaults(func=_cmd_fill_mask)

    p = sub.add_parser("example", help="convert + load + fill-mask on a bundled real donor site")
    p.add_argument("-m", "--model", help="SpliceBERT checkpoint folder (default: random weights, a demo)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random demo weights")
    add_sequence_args(p)
    p.set_defaults(func=_cmd_example)
    return parser


def _terminate(signum, frame):
    raise KeyboardInterrupt  # SIGTERM ends a run the way Ctrl-C does: partial output kept, resumable


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f"{error.strerror}: {error.filename}"
    return str(error) or type(error).__name__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    from .score_vcf import PartialRun

    from transformers.utils import logging as hf_logging

    previous_offline = os.environ.get("HF_HUB_OFFLINE")
    if getattr(args, "offline", False):
        os.environ["HF_HUB_OFFLINE"] = "1"  # one switch for the weights, the annotations and huggingface_hub
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # transformers' per-load bars; our own progress stays on stderr
    name = f"splicebert {args.command}"
    previous = signal.signal(signal.SIGTERM, _terminate) if _main_thread() else None
    try:
        return args.func(args)
    except BrokenPipeError:
        # the reader of our output went away (e.g. `| head`): stop quietly, as other Unix tools do
        _silence_stdout()
        return 141
    except KeyboardInterrupt:
        print(f"{name}: interrupted; nothing was written to the output path", file=sys.stderr)
        return 2
    except PartialRun as error:
        if isinstance(error.__cause__, BrokenPipeError):
            _silence_stdout()
            return 141
        _report(name, error, args.verbose)
        return 2
    except (UsageError, ValueError, OSError, EOFError, ImportError) as error:
        _report(name, error, args.verbose)
        return 2
    except Exception as error:  # a bug: one line, the traceback with -v
        _report(name, error, args.verbose, bug=True)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if bars:
            hf_logging.enable_progress_bar()
        if previous_offline is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous_offline


def _report(name: str, error: BaseException, verbose: bool, bug: bool = False) -> None:
    if verbose:
        import traceback

        traceback.print_exception(error)
    kind = "internal error" if bug else "error"
    suffix = " (a bug in splicebert-plugin: please report it with the output of -v)" if bug else ""
    print(f"{name}: {kind}: {_describe(error)}{suffix}", file=sys.stderr)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
