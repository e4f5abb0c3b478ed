"""Recreate the bundled demo model (splicebert_plugin.DEMO_MODEL) from the shared genome pieces.

    python training/make_demo_model.py --data path/to/data --work runs/demo [--install]

``--data`` is the project's data bundle (not in the repository): ``genome/hg19_pieces``,
``genome/hg38_pieces`` and ``genome/vertebrate_cgp_regions`` with their annotation tables.

Steps (each skipped when its output exists, so a rerun resumes):
1. inputs: the hg19 and hg38 pieces as FASTA (+ .fai) with their annotation shifted to piece
   coordinates, and the 7 vertebrate alpha-globin regions as plain sequences; the hg19 chr4 and
   chr5 pieces are held out entirely (the human evaluation set);
2. corpus: training/build_corpus equivalent (primary transcripts, both strands merged);
3. pretraining: training/configs/demo.yaml (2-core CPU, about an hour);
4. copy of the final folder into src/splicebert_plugin/resources/demo_model (with --install).
Then run training/evaluate_demo.py for the model card's numbers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from splicebert_plugin.io.fasta import write_fasta
from splicebert_plugin.training.genome_pieces import (HOLD_OUT, TABLE_HEADER, piece_offset, read_piece,
                                                      shifted_rows, table_rows)

REPO = Path(__file__).resolve().parents[1]


def prepare_inputs(genome: Path, work: Path) -> list:
    from splicebert_plugin.training.splicebert.corpus import CorpusInput

    inputs_dir = work / "inputs"
    inputs_dir.mkdir(parents=True, exist_ok=True)
    inputs = []
    for build, table_name in (("hg19", "spliceai_grch37_genes_inside_pieces.tsv"),
                              ("hg38", "spliceai_grch38_genes_inside_pieces.tsv")):
        rows = table_rows(genome / f"{build}_pieces" / table_name)
        for piece in sorted({row[7] for row in rows}):
            if Path(piece).name in HOLD_OUT or piece.endswith("hg38_chr16_186964-397118.fa"):
                continue  # held out, or taken with its fuller RefSeq GTF below
            stem = Path(piece).name.replace(".fa.gz", "").replace(".fa", "")
            fasta = inputs_dir / f"{stem}.fa"
            piece_rows = [row for row in rows if row[7] == piece]
            if not fasta.exists():
                _, sequence = read_piece(genome / piece)
                write_fasta(fasta, [("chr" + piece_rows[0][1], sequence)])
            lines = [TABLE_HEADER, *shifted_rows(piece_rows, piece_offset(piece_rows))]
            (inputs_dir / f"{stem}.genes.tsv").write_text("\n".join(lines) + "\n")
            inputs.append(CorpusInput(str(fasta), "human", str(inputs_dir / f"{stem}.genes.tsv")))
    globin = inputs_dir / "hg38_chr16_globin.fa"
    if not globin.exists():
        _, sequence = read_piece(genome / "hg38_pieces/hg38_chr16_186964-397118.fa")
        write_fasta(globin, [("chr16", sequence)])
    inputs.append(CorpusInput(str(globin), "human",
                              str(genome / "hg38_pieces/refseq.hg38.chr16_186964-397118.relative_coords.gtf")))
    for region in sorted((genome / "vertebrate_cgp_regions").glob("*.region.fa.gz")):
        species = region.name.split(".")[0]
        plain = inputs_dir / f"{species}.fa"
        if not plain.exists():
            _, sequence = read_piece(region)
            plain.write_text(f">{species}\n{sequence}\n")
        inputs.append(CorpusInput(str(plain), species))
    return inputs


def install(final: Path, target: Path) -> None:
    """Copy the final folder into the package without the model code: the demo model loads
    through the installed package (``import splicebert_plugin``), never as remote code."""
    from splicebert_plugin.checkpoints.hub_folder import SPLICEBERT_CODE_FILES, install_without_code

    install_without_code(final, target, SPLICEBERT_CODE_FILES)


def main(argv=None) -> int:
    from splicebert_plugin.training.config import load_config
    from splicebert_plugin.training.splicebert.corpus import build_corpus
    from splicebert_plugin.training.splicebert.pretrain import PretrainConfig, pretrain

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="the data bundle (with genome/hg19_pieces, ...)")
    parser.add_argument("--work", default=str(REPO / "runs/demo"))
    parser.add_argument("--install", action="store_true", help="copy the model into the package")
    args, overrides = parser.parse_known_args(argv)
    work = Path(args.work)
    corpus = build_corpus(prepare_inputs(Path(args.data) / "genome", work), work / "corpus", validation=6,
                          min_length=64, seed=0)
    config = load_config(PretrainConfig, REPO / "training/configs/demo.yaml",
                         [f"--corpus={corpus}", f"--output_dir={work / 'pretrain'}", *overrides])
    final = pretrain(config)
    if args.install:
        target = REPO / "src/splicebert_plugin/resources/demo_model"
        install(final, target)
        print(f"installed {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
