"""``splicebert benchmark``: a labelled variant set scored zero-shot, against the distance baseline
and the paper's number, with one command (``docs/benchmarks.md``).

Windows: with a genome (``-R``, the build of the dataset's coordinates), the paper's exon-centred
window of the model's length around the tested exon (``scoring.windows.exon_centred_window``),
SNV placed in it; without one, the sequences the dataset carries (cut to the model's length
around the SNV when longer). The output says which. Scores: KL-context (larger = more
disruptive), the distance baseline is minus the distance to the nearer exon end.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..io.outputs import write_text_atomic
from ..scoring import variant_effect
from ..scoring.windows import exon_centred_window, orient
from .evaluation import evaluate, plot_precision_recall
from .variant_benchmarks import BENCHMARKS, Benchmark, BenchmarkVariant, VariantSet

REF_DIFFERS = "REF differs from the genome"
NO_POSITION = "no genomic position"


def _pairs_from_dataset(variants, limit: int):
    """``(variant, wt, mt, v, note)`` from the dataset's own sequences."""
    for variant in variants:
        wt, mt, v = variant.ref_seq, variant.alt_seq, variant.sequence_index
        note = ""
        if len(wt) > limit:
            start = min(max(0, v - limit // 2), len(wt) - limit)
            wt, mt, v = wt[start : start + limit], mt[start : start + limit], v - start
            note = f"cut to {limit} nt"
        yield variant, wt, mt, v, note


def _pairs_from_genome(data: VariantSet, genome_path: str, width: int, build: str):
    """``(variant, wt, mt, v, note)`` in exon-centred genome windows; variants that cannot be placed
    are excluded in ``data`` under their reason."""
    from ..io.contigs import ContigMap
    from ..io.genome import Genome

    def skip(variant, reason):
        data.exclude(variant.id, reason)

    checked = 0
    with Genome(genome_path) as genome:
        names = ContigMap(genome.contigs, f"genome {genome.path.name}")
        for variant in data.variants:
            if variant.pos is None or variant.exon_start is None:
                skip(variant, NO_POSITION)
                continue
            contig = names.get(variant.chrom)
            if contig is None:
                skip(variant, "contig not in the genome")
                continue
            window = exon_centred_window(variant.exon_start - 1, variant.exon_end, variant.strand, width)
            genomic, off = genome.fetch(contig, window.start, window.end)
            wt = orient(genomic, variant.strand)
            v = window.index(variant.pos - 1)
            ref, alt = orient(variant.ref, variant.strand), orient(variant.alt, variant.strand)
            if not 0 <= v < width:
                skip(variant, "SNV outside the exon-centred window")
                continue
            checked += 1
            if wt[v] != ref:
                skip(variant, REF_DIFFERS)
                continue
            yield variant, wt, wt[:v] + alt + wt[v + 1 :], v, "OFF_CONTIG" if off else ""
    if checked and data.excluded[REF_DIFFERS] > checked / 2:
        raise UserError(f"{data.excluded[REF_DIFFERS]} of {checked} REF alleles differ from {genome_path}: the dataset's "
                        f"coordinates are {build}; give an {build} FASTA with -R")


def score_pairs(model, pairs, *, batch_size: int = 16, precision: str = "fp32",
                context: int = variant_effect.CONTEXT, progress: bool = True):
    """KL-context of every ``(variant, wt, mt, v, note)``; returns ``[(variant, score, note), ...]``
    in input order (windows of one length are batched together)."""
    from tqdm import tqdm

    from ..scoring.passes import ProbabilityModel, score_pair

    runner = ProbabilityModel(model, batch_size, precision)
    pairs = list(pairs)
    by_length: dict[int, list[int]] = {}
    for i, (_, wt, _, _, _) in enumerate(pairs):
        by_length.setdefault(len(wt), []).append(i)
    scores = [None] * len(pairs)
    bar = tqdm(total=len(pairs), desc="scoring", unit=" variants", file=sys.stderr, disable=not progress)
    for indices in by_length.values():
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            probs = runner.nucleotide_probabilities([pairs[i][1] for i in chunk] + [pairs[i][2] for i in chunk])
            for j, i in enumerate(chunk):
                values, missing = score_pair(probs[j], probs[len(chunk) + j], pairs[i][3], context=context)
                note = pairs[i][4]
                if missing:
                    note = "&".join(filter(None, [note, "PARTIAL_CONTEXT"]))
                scores[i] = (pairs[i][0], float(values["KL_CONTEXT"]), note)
            bar.update(len(chunk))
    bar.close()
    return scores


def _markdown(bench: Benchmark, rows: list[dict], info: dict) -> str:
    lines = [f"# {bench.title}", "",
             f"- model: {info['model']}", f"- windows: {info['windows']}",
             f"- variants: {info['variants']} SNVs scored ({info['positives']} {bench.positive}); excluded: "
             + (", ".join(f"{reason} {count}" for reason, count in info["excluded"].items()) or "none"),
             "- sources: " + "; ".join(f"{s['repo']}@{s['commit'][:10]} {s['path']} (sha256 {s['sha256'][:12]})"
                                       for s in info["sources"]),
             "", "| score | AP (95 % CI) | AUROC (95 % CI) | the paper's AP |", "|---|---|---|---|"]
    for row in rows:
        paper = "" if row["score"] != "KL_CONTEXT" else (
            "not reported" if row["paper_ap"] is None else f"{row['paper_ap']:.3f} (SpliceBERT.510nt)")
        lines.append(f"| {row['score']} | {row['ap']:.3f} ({row['ap_low']:.3f}-{row['ap_high']:.3f}) | "
                     f"{row['auroc']:.3f} ({row['auroc_low']:.3f}-{row['auroc_high']:.3f}) | {paper} |")
    lines += ["", f"Chance AP (the share of {bench.positive}s): {info['positives'] / info['variants']:.3f}."]
    if bench.paper_ap is not None:
        lines[-1] += (" The paper's number is for its own run (SpliceBERT.510nt weights, hg19 exon-centred windows); "
                      "compare like with like.")
    return "\n".join(lines) + "\n"


def run_benchmark(name: str, model, output: str, *, model_label: str = "", genome: str | None = None,
                  mirror: str | None = None, data_dir: str | None = None, batch_size: int = 16,
                  precision: str = "fp32", n_boot: int = 1000, seed: int = 0, progress: bool = True) -> dict:
    """Fetch (once), parse, score, evaluate and write ``scores.tsv``, ``excluded.tsv``,
    ``results.tsv``, ``results.md``, ``pr.png`` and ``summary.json`` into ``output``. Each file is
    written whole (``.partial`` then renamed); ``summary.json`` is written last and removed first,
    so a folder with it holds one finished run."""
    from ..io.table import tsv_text
    from ..sources.benchmark_data import dataset_files

    if name not in BENCHMARKS:
        raise UserError(f"unknown benchmark {name!r}; choose one of {', '.join(sorted(BENCHMARKS))}")
    bench = BENCHMARKS[name]
    if genome is not None and bench.genome_build is None:
        raise UserError(f"{name} is scored on the sequences it carries ({bench.sequences}): it gives no genomic "
                        "position of its SNVs, so -R is not used; leave it out")
    files = dataset_files(name, mirror=mirror, data_dir=data_dir, progress=progress)
    data = bench.read([path for _, path, _ in files])
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise UserError(f"-O {output} is a file: name a folder for the results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").unlink(missing_ok=True)  # the finished-run marker of an earlier run
    limit = model.config.max_position_embeddings - 2
    if genome is not None:
        pairs = _pairs_from_genome(data, genome, limit, bench.genome_build)
        windows = (f"genome {Path(genome).name} ({bench.genome_build} coordinates), exon-centred {limit}-nt windows "
                   "(the paper's placement)")
    else:
        pairs = _pairs_from_dataset(data.variants, limit)
        windows = bench.sequences
    scored = score_pairs(model, pairs, batch_size=batch_size, precision=precision, progress=progress)
    if not scored:
        raise UserError(f"no {name} variant could be scored (excluded: {dict(data.excluded)})")
    labels = np.array([v.label for v, _, _ in scored])
    kl = np.array([s for _, s, _ in scored])
    distance = -np.array([v.distance_to_splice_site for v, _, _ in scored], dtype=float)
    results = {"KL_CONTEXT": evaluate(kl, labels, n_boot=n_boot, seed=seed),
               "distance to splice site (baseline)": evaluate(distance, labels, n_boot=n_boot, seed=seed)}
    rows = [{"score": score, **ev.as_dict(), "paper_ap": bench.paper_ap if score == "KL_CONTEXT" else None}
            for score, ev in results.items()]
    info = {"dataset": name, "model": model_label, "windows": windows, "variants": len(scored),
            "positives": int(labels.sum()), "positive": bench.positive, "excluded": dict(data.excluded),
            "precision": precision,
            "sources": [{"repo": f"{s.owner}/{s.repo}", "commit": s.commit, "path": s.path, "sha256": digest}
                        for s, _, digest in files]}
    write_text_atomic(out / "scores.tsv", tsv_text([_score_row(bench, v, s, note) for v, s, note in scored]))
    write_text_atomic(out / "excluded.tsv", "ID\tREASON\n" + "".join(f"{vid}\t{reason}\n" for vid, reason in data.excluded_rows))
    write_text_atomic(out / "results.tsv", tsv_text(rows))
    write_text_atomic(out / "results.md", _markdown(bench, rows, info))
    plot_precision_recall({score: (labels, values, results[score].ap)
                           for score, values in (("KL_CONTEXT", kl), ("distance to splice site (baseline)", distance))},
                          str(out / "pr.png"), prevalence=float(labels.mean()),
                          title=f"{bench.title}: {len(labels)} SNVs, {int(labels.sum())} {bench.positive}")
    write_text_atomic(out / "summary.json", json.dumps({**info, "results": rows}, indent=2) + "\n")  # last
    return {**info, "results": rows}


def _score_row(bench: Benchmark, variant: BenchmarkVariant, score: float, note: str) -> dict:
    def blank(value):
        return "" if value is None else value

    return {"ID": variant.id, "CHROM": variant.chrom, "POS": blank(variant.pos), "REF": variant.ref,
            "ALT": variant.alt, "STRAND": variant.strand, "EXON_START": blank(variant.exon_start),
            "EXON_END": blank(variant.exon_end), "SEQUENCE_INDEX": variant.sequence_index,
            bench.effect_column: variant.effect, "LABEL": variant.label, "KL_CONTEXT": repr(score),
            "DISTANCE": variant.distance_to_splice_site, "NOTE": note}
