"""Recreate the bundled demo model (splicebert_plugin.DEMO_MODEL) from the shared genome pieces.

    python training/make_demo_model.py --shared ../shared/data/genome --work runs/demo

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
import gzip
import shutil
from pathlib import Path

HOLD_OUT = ("hg19_chr4.103M.fa.gz", "hg19_chr5.124M.fa.gz")
REPO = Path(__file__).resolve().parents[1]


def _read_fasta_gz(path: Path) -> tuple[str, str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        header = handle.readline()[1:].split()[0]
        return header, "".join(line.strip() for line in handle if not line.startswith(">"))


def write_fasta(path: Path, records: list[tuple[str, str]]) -> None:
    """``(name, sequence)`` records as a 60-column FASTA with its .fai index."""
    import pyfaidx

    with open(path, "w") as handle:
        for name, sequence in records:
            handle.write(f">{name}\n" + "\n".join(sequence[i : i + 60] for i in range(0, len(sequence), 60)) + "\n")
    pyfaidx.Faidx(str(path)).close()


TABLE_HEADER = "#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END"


def shifted_rows(rows: list[list[str]], offset: int) -> list[str]:
    """SpliceAI-table rows (as lines) with coordinates moved by -offset (to piece coordinates)."""
    lines = []
    for row in rows:
        shift = lambda text: ",".join(str(int(x) - offset) for x in text.split(",") if x) + ","
        lines.append("\t".join([row[0], "chr" + row[1], row[2], str(int(row[3]) - offset), str(int(row[4]) - offset),
                                shift(row[5]), shift(row[6])]))
    return lines


def _shift_table(rows: list[list[str]], offset: int, out: Path) -> None:
    out.write_text("\n".join([TABLE_HEADER, *shifted_rows(rows, offset)]) + "\n")


def prepare_inputs(shared: Path, work: Path) -> list:
    from splicebert_plugin.training.corpus import CorpusInput

    inputs_dir = work / "inputs"
    inputs_dir.mkdir(parents=True, exist_ok=True)
    inputs = []
    for build, table_name in (("hg19", "spliceai_grch37_genes_inside_pieces.tsv"),
                              ("hg38", "spliceai_grch38_genes_inside_pieces.tsv")):
        table = (shared / f"{build}_pieces" / table_name).read_text().splitlines()[1:]
        rows = [line.split("\t") for line in table]
        for piece in sorted({row[7] for row in rows}):
            if Path(piece).name in HOLD_OUT or piece.endswith("hg38_chr16_186964-397118.fa"):
                continue  # held out, or taken with its fuller RefSeq GTF below
            stem = Path(piece).name.replace(".fa.gz", "").replace(".fa", "")
            fasta = inputs_dir / f"{stem}.fa"
            piece_rows = [row for row in rows if row[7] == piece]
            offset = int(piece_rows[0][8]) - 1  # index 0 of the piece = this 0-based position
            if not fasta.exists():
                _, sequence = _read_fasta_gz(shared / piece)
                write_fasta(fasta, [("chr" + piece_rows[0][1], sequence)])
            _shift_table(piece_rows, offset, inputs_dir / f"{stem}.genes.tsv")
            inputs.append(CorpusInput(str(fasta), "human", str(inputs_dir / f"{stem}.genes.tsv")))
    globin = inputs_dir / "hg38_chr16_globin.fa"
    if not globin.exists():
        _, sequence = _read_fasta_gz(shared / "hg38_pieces/hg38_chr16_186964-397118.fa")
        write_fasta(globin, [("chr16", sequence)])
    inputs.append(CorpusInput(str(globin), "human",
                              str(shared / "hg38_pieces/refseq.hg38.chr16_186964-397118.relative_coords.gtf")))
    for region in sorted((shared / "vertebrate_cgp_regions").glob("*.region.fa.gz")):
        species = region.name.split(".")[0]
        plain = inputs_dir / f"{species}.fa"
        if not plain.exists():
            _, sequence = _read_fasta_gz(region)
            plain.write_text(f">{species}\n{sequence}\n")
        inputs.append(CorpusInput(str(plain), species))
    return inputs


def main(argv=None) -> int:
    from splicebert_plugin.training.config import load_config
    from splicebert_plugin.training.corpus import build_corpus
    from splicebert_plugin.training.pretrain import PretrainConfig, pretrain

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", default=str(REPO.parent / "shared/data/genome"))
    parser.add_argument("--work", default=str(REPO / "runs/demo"))
    parser.add_argument("--install", action="store_true", help="copy the model into the package")
    args, overrides = parser.parse_known_args(argv)
    shared, work = Path(args.shared), Path(args.work)
    corpus = build_corpus(prepare_inputs(shared, work), work / "corpus", validation=6, min_length=64, seed=0)
    config = load_config(PretrainConfig, REPO / "training/configs/demo.yaml",
                         [f"--corpus={corpus}", f"--output_dir={work / 'pretrain'}", *overrides])
    final = pretrain(config)
    if args.install:
        target = REPO / "src/splicebert_plugin/resources/demo_model"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(final, target)
        print(f"installed {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
