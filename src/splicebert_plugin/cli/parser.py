"""The ``splicebert`` argument parser: one sub-parser per verb, each bound to a thin handler."""

from __future__ import annotations

import argparse

from . import analyze, manage, score


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    from ..scoring.passes import DEFAULT_SCORES, ScoringOptions
    from ..scoring.precision import PRECISIONS

    defaults = ScoringOptions()
    parser = argparse.ArgumentParser(prog="splicebert", description="SpliceBERT for RNA splicing: models and tools.")
    parser.add_argument("--version", action="version", version=f"splicebert-plugin {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail (and tracebacks) to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("convert", help="convert a SpliceBERT checkpoint folder to a Hub-ready folder")
    p.add_argument("src", help="checkpoint folder (original release format or ours)")
    p.add_argument("dst", help="new folder to write")
    p.add_argument("--force", action="store_true", help="overwrite a non-empty destination")
    p.set_defaults(func=manage.cmd_convert)

    model_help = ("release name (SpliceBERT.510nt, SpliceBERT.1024nt, SpliceBERT-human.510nt: fetched once), "
                  "checkpoint folder, Hub id, or 'demo' (default: the bundled demo model)")

    def add_model_args(p):
        p.add_argument("-m", "--model", help=model_help)
        p.add_argument("--offline", action="store_true",
                       help="never download (as HF_HUB_OFFLINE=1): use the cache only")
        p.add_argument("--revision", help="Hub revision of a Hub model (MultiMolecule's ports are pinned by default)")
        p.add_argument("--device", help="torch device (default: cuda if available, else cpu)")
    def add_precision(p):
        p.add_argument("--precision", default=defaults.precision, choices=list(PRECISIONS),
                       help="arithmetic of the model passes: fp32 (default, exact), bf16 (faster, GPU or CPU), "
                            "int8 (CPU); logits and scores stay float32/float64 (docs/scoring.md)")

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
    add_precision(p)
    p.add_argument("--chunk-size", type=int, default=defaults.chunk_size,
                   help="records read and scored together (the unit shared out between processes)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from its .partial output (same command otherwise)")
    p.add_argument("--precomputed", nargs="+", metavar="FILE",
                   help="files of splicebert precompute (same model and options): the SNVs they hold are copied, "
                        "the rest computed")
    p.add_argument("--example", action="store_true", help="score the bundled example (hg19 chr19 slice)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=score.cmd_score)

    p = sub.add_parser("precompute", help="score every SNV of a region set into a bgzipped, tabix-indexed file")
    p.add_argument("-R", "--reference", required=True, help="genome FASTA with .fai index")
    p.add_argument("-A", "--annotation", required=True, help="gene annotation (as for score)")
    p.add_argument("-O", "--output", required=True, help="output .tsv.gz (bgzipped; a .tbi index is written beside)")
    p.add_argument("--bed", help="regions (BED); default: every annotated exon with --flank nt each side")
    p.add_argument("--flank", type=int, default=50, help="nt added to each side of an exon (default 50)")
    add_model_args(p)
    p.add_argument("--scores", default=",".join(DEFAULT_SCORES), help="comma-separated scores (as for score)")
    p.add_argument("--mode", default=defaults.mode, choices=["variant", "exon"], help="window placement (as for score)")
    p.add_argument("--window", type=int, help="window width in nt (default: the model's length)")
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    add_precision(p)
    p.add_argument("--shard", metavar="K/N", help="score only the K-th of N equal parts (job arrays); merge the N "
                                                  "files with precompute-merge")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run (same command otherwise)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=score.cmd_precompute)

    p = sub.add_parser("precompute-merge", help="merge the shards of one precompute run (byte-identical to one run)")
    p.add_argument("shards", nargs="+", help="the N shard files (any order)")
    p.add_argument("-O", "--output", required=True, help="merged .tsv.gz (+ .tbi)")
    p.set_defaults(func=score.cmd_precompute_merge)

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
    add_precision(p)
    p.set_defaults(func=score.cmd_ism)

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
    p.set_defaults(func=analyze.cmd_embed)

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
    p.set_defaults(func=analyze.cmd_attention)

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
    p.set_defaults(func=analyze.cmd_evaluate, direction=None)

    p = sub.add_parser("benchmark", help="the paper's variant benchmarks (Vex-seq, MFASS, MaPSy) in one command, "
                                         "with a baseline")
    p.add_argument("name", choices=["vexseq", "mfass", "mapsy"], help="the benchmark")
    add_model_args(p)
    p.add_argument("-R", "--reference", help="hg19 FASTA (vexseq, mfass): exon-centred genome windows (the paper's); "
                                             "default: the sequences the dataset carries (mapsy: always)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--data-dir", help="a folder holding the dataset's files (no download)")
    source.add_argument("--mirror", metavar="URL", help="raw-file host stand-in: files read at "
                                                        "URL/<owner>/<repo>/<commit>/<path>")
    p.add_argument("-O", "--output", required=True, help="results folder (scores.tsv, results.tsv/.md, pr.png)")
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    add_precision(p)
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=analyze.cmd_benchmark)

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
    p.set_defaults(func=manage.cmd_download)


    def add_sequence_args(p):
        p.add_argument("--sequence", help="nucleotide sequence (default: the bundled example)")
        p.add_argument("--fasta", help="FASTA file with one sequence (default: the bundled example)")
        p.add_argument("--positions", help="comma-separated 0-based positions to mask (default: the centre two)")

    p = sub.add_parser("fill-mask", help="probabilities of A/C/G/T at masked positions of a sequence")
    add_model_args(p)
    add_sequence_args(p)
    p.set_defaults(func=score.cmd_fill_mask)

    p = sub.add_parser("example", help="convert + load + fill-mask on a bundled real donor site")
    p.add_argument("-m", "--model", help="SpliceBERT checkpoint folder (default: random weights, a demo)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random demo weights")
    add_sequence_args(p)
    p.set_defaults(func=score.cmd_example)
    return parser
