"""The paper's analyses as verbs: ``embed``, ``attention``, ``evaluate`` (parse, call one job, print)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import UsageError


def _parse_layers(text: str, model) -> list[int]:
    count = model.config.num_hidden_layers
    if text == "all":
        return list(range(count + 1))
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"--layer must be 'all' or comma-separated integers 0-{count}, got {text!r}") from None


def cmd_embed(args) -> int:
    from collections import Counter

    from ..analysis.embed_job import embed_job, site_windows
    from ..io.bed import read_sites
    from ..io.fasta import read_fasta
    from ..checkpoints.resolve import resolve_model

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
        from ..io.genome import Genome

        sites = list(read_sites(args.sites))  # read once; the whole BED is checked before the model loads
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
            windows = list(site_windows(genome, sites, width, skipped))
            count, inputs = len(windows), iter(windows)
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


def cmd_attention(args) -> int:
    from ..analysis.attention_job import attention_job
    from ..io.genome import Genome
    from ..checkpoints.resolve import resolve_model

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


def cmd_benchmark(args) -> int:
    from ..analysis.benchmark_job import run_benchmark
    from ..checkpoints.resolve import resolve_model

    model, label = resolve_model(args.model, device=args.device, offline=args.offline, revision=args.revision)
    result = run_benchmark(args.name, model, args.output, model_label=label, genome=args.reference,
                           mirror=args.mirror, data_dir=args.data_dir, batch_size=args.batch_size,
                           precision=args.precision, n_boot=args.bootstrap, seed=args.seed, progress=not args.quiet)
    print(f"# {args.name}: {result['variants']} SNVs ({result['positives']} {result['positive']}), "
          f"windows: {result['windows']}")
    print("score\tAP\tAP 95% CI\tAUROC\tAUROC 95% CI\tthe paper's AP")
    for row in result["results"]:
        paper = "" if row["paper_ap"] is None else f"{row['paper_ap']:.3f}"
        print(f"{row['score']}\t{row['ap']:.4f}\t{row['ap_low']:.4f}-{row['ap_high']:.4f}\t{row['auroc']:.4f}\t"
              f"{row['auroc_low']:.4f}-{row['auroc_high']:.4f}\t{paper}")
    print(f"# written to {args.output}/ (results.md, results.tsv, scores.tsv, excluded.tsv, pr.png)", file=sys.stderr)
    return 0


def cmd_evaluate(args) -> int:
    from ..analysis.evaluate_job import evaluate_job

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
