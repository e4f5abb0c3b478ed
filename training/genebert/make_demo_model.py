"""Pretrain the GeneBERT demo models from the shared genome pieces (label-free regions only).

    python training/genebert/make_demo_model.py --data path/to/data --work runs/genebert_demo \
        [--arms genebert,mlm_nsp,mlm] [--install] [--key=value ...]

``--data`` is the project's data bundle (not in the repository): ``genome/hg19_pieces`` and
``genome/hg38_pieces`` with their SpliceAI-layout tables. Steps (each skipped when its output
exists, so a rerun resumes):

1. pieces: the hg19 pieces (chr3, chr4, chr5, chr19) and the hg38 pieces (hg38_chr16,
   hg38_chr22) as one FASTA in piece coordinates, with their 105 canonical transcripts;
2. the promoter evaluation windows (positives and both negative sets) and, padded by 500 nt on
   each side, the exclusion BED: no pretraining region overlaps a window a downstream test
   scores, positive or negative;
3. corpus: CpG islands and 50-nt genome tiles of the pieces (JASPAR 2018 CORE vertebrates,
   p < 5e-5), minus the excluded intervals;
4. pretraining of each arm with ``training/genebert/configs/demo.yaml`` at equal data and
   budget: ``genebert`` (lambda 0.5), ``mlm_nsp`` (lambda 0), ``mlm`` (lambda 0, no NSP);
5. with ``--install``, the ``genebert`` arm's final folder into
   ``src/splicebert_plugin/resources/genebert_demo_model`` (``splicebert_plugin.genebert.DEMO_MODEL``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from splicebert_plugin.training.config import ConfigError
from splicebert_plugin.training.genebert.corpus import GeneBertCorpusError
from splicebert_plugin.training.genebert.samples import SampleError

REPO = Path(__file__).resolve().parents[2]
ARMS = {"genebert": ["--srm_weight=0.5"], "mlm_nsp": ["--srm_weight=0"], "mlm": ["--srm_weight=0", "--nsp=false"]}
PIECES = (("hg19", "spliceai_grch37_genes_inside_pieces.tsv", "chr"),
          ("hg38", "spliceai_grch38_genes_inside_pieces.tsv", "hg38_chr"))
EXCLUSION_PAD = 500


def prepare_pieces(genome: Path, work: Path) -> tuple[Path, Path]:
    """``pieces.fa`` (+ .fai) and ``genes.tsv`` (SpliceAI layout, piece coordinates) in ``work``."""
    from splicebert_plugin.io.fasta import write_fasta
    from splicebert_plugin.training.genome_pieces import TABLE_HEADER, piece_offset, read_piece, table_rows

    fasta, table = work / "pieces.fa", work / "genes.tsv"
    if fasta.is_file() and table.is_file():
        return fasta, table
    work.mkdir(parents=True, exist_ok=True)
    records, lines = [], [TABLE_HEADER]
    for build, table_name, prefix in PIECES:
        rows = table_rows(genome / f"{build}_pieces" / table_name)
        for piece in sorted({row[7] for row in rows}):
            piece_rows = [row for row in rows if row[7] == piece]
            offset = piece_offset(piece_rows)
            contig = prefix + piece_rows[0][1]
            records.append((contig, read_piece(genome / piece)[1]))
            for row in piece_rows:
                shift = [",".join(str(int(x) - offset) for x in field.split(",") if x) + "," for field in row[5:7]]
                lines.append("\t".join([row[0], contig, row[2], str(int(row[3]) - offset),
                                        str(int(row[4]) - offset), *shift]))
    write_fasta(fasta, records)
    table.write_text("\n".join(lines) + "\n")
    return fasta, table


def write_evaluation_windows(fasta: Path, table: Path, work: Path) -> Path:
    """The promoter windows of both negative sets (TSV) and the padded exclusion BED; returns the BED."""
    from splicebert_plugin.io.annotation import read_transcripts
    from splicebert_plugin.io.genome import Genome
    from splicebert_plugin.training.finetune.promoters import NEGATIVE_SETS, promoter_examples

    bed = work / "evaluation_windows.padded.bed"
    if bed.is_file():
        return bed
    genes = read_transcripts(table)
    intervals, summary = set(), {}
    with Genome(fasta) as genome:
        for negatives in NEGATIVE_SETS:
            data = promoter_examples(genome, genes, negatives, seed=0)
            summary[negatives] = {"positives": sum(e.label for e in data.examples),
                                  "negatives": sum(1 - e.label for e in data.examples), "skipped": dict(data.skipped)}
            for e in data.examples:
                intervals.add((e.chrom, max(0, e.start - EXCLUSION_PAD), e.end + EXCLUSION_PAD))
    bed.write_text("".join(f"{c}\t{s}\t{e}\n" for c, s, e in sorted(intervals)))
    (work / "evaluation_windows.json").write_text(json.dumps(summary, indent=2) + "\n")
    return bed


def install(final: Path, target: Path, work: Path) -> None:
    """Copy the final folder into the package without the model code (it loads through the
    installed package, never as remote code), with its card."""
    from splicebert_plugin.checkpoints.hub_folder import GENEBERT_CODE_FILES as CODE_FILES
    from splicebert_plugin.checkpoints.hub_folder import install_without_code
    from splicebert_plugin.checkpoints.model_cards import card_for_genebert_demo

    install_without_code(final, target, CODE_FILES)
    arms = {}
    for arm in ARMS:
        summary_file = work / f"pretrain_{arm}" / "final" / "training_summary.json"
        if summary_file.is_file():
            arms[arm] = json.loads(summary_file.read_text())["last_eval"]
    results = work / "results.md"
    summary = json.loads((final / "training_summary.json").read_text())
    evaluation = evaluate_final(final, summary, work)
    (target / "evaluation.json").write_text(json.dumps(evaluation, indent=2) + "\n")
    (target / "README.md").write_text(card_for_genebert_demo(summary, arms, results.read_text() if results.is_file()
                                                             else None, evaluation))


def evaluate_final(final: Path, summary: dict, work: Path) -> dict:
    """The final model on the run's validation split: [MASK]-input accuracy, GC-only retrieval."""
    from splicebert_plugin.training.genebert.pretrain import evaluate_pretrained, evaluation_config

    return evaluate_pretrained(str(final), evaluation_config(summary["config"], [f"--corpus={work / 'corpus'}"]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="the data bundle (with genome/hg19_pieces, ...)")
    parser.add_argument("--work", default=str(REPO / "runs/genebert_demo"))
    parser.add_argument("--arms", default=",".join(ARMS), help=f"comma-separated subset of {sorted(ARMS)}")
    parser.add_argument("--install", action="store_true", help="copy the genebert arm into the package")
    args, overrides = parser.parse_known_args(argv)
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    if not arms or any(a not in ARMS for a in arms):
        parser.error(f"--arms: a comma-separated subset of {sorted(ARMS)}")
    if args.install and "genebert" not in arms:
        parser.error("--install needs the genebert arm")
    work = Path(args.work)
    try:
        return _run(args, arms, overrides, work)
    except (ConfigError, GeneBertCorpusError, SampleError, FileNotFoundError) as error:
        print(f"make_demo_model: error: {error}", file=sys.stderr)
        return 2


def _run(args, arms, overrides, work: Path) -> int:
    from splicebert_plugin.training.config import load_config
    from splicebert_plugin.training.genebert.corpus import TrackInput, build_genebert_corpus
    from splicebert_plugin.training.genebert.pretrain import GeneBertPretrainConfig, pretrain_genebert

    fasta, table = prepare_pieces(Path(args.data) / "genome", work)
    exclude = write_evaluation_windows(fasta, table, work)
    corpus = build_genebert_corpus(str(fasta), [TrackInput("cpg_islands", "cpg_islands"),
                                                TrackInput("tiles", "tiles")], work / "corpus", exclude=str(exclude))
    finals = {}
    for arm in arms:
        config = load_config(GeneBertPretrainConfig, REPO / "training/genebert/configs/demo.yaml",
                             [f"--corpus={corpus}", f"--output_dir={work / f'pretrain_{arm}'}", *ARMS[arm],
                              *overrides])
        finals[arm] = pretrain_genebert(config)
        print(f"{arm}: {finals[arm]}")
    if args.install:
        target = REPO / "src/splicebert_plugin/resources/genebert_demo_model"
        install(finals["genebert"], target, work)
        print(f"installed {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
