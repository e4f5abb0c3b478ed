"""The four shared hg19 pieces as one small genome for the fine-tuning examples.

    python training/prepare_hg19_pieces.py --data path/to/data --out runs/pieces

``--data`` is the project's data bundle (not in the repository): ``genome/hg19_pieces`` (the
slices and their SpliceAI-layout table) and ``branchpoints/mercer_dataset.hg19.bed.gz``.

Writes, in piece coordinates (index 0 of each contig = the piece's first base; contigs chr3,
chr4, chr5, chr19):
- hg19_pieces.fa (+ .fai): chr3:42.0-44.0 Mb, chr4:103-105 Mb, chr5:124-126 Mb, chr19:0-1.5 Mb;
- genes.tsv: the 92 SpliceAI GRCh37 canonical transcripts inside the pieces (SpliceAI table);
- mercer.bed: the Mercer et al. branchpoint regions (as processed by the SpliceBERT authors)
  that lie inside the pieces;
- attention/<group>.bedpe: the authors' splice-site pairs of the attention analysis that lie
  inside the pieces (MANE introns: donor and acceptor of one intron; the control groups), for
  ``splicebert attention``.
Then the CPU runs whose numbers the README quotes (the demo model; about 14 and 4 minutes on a
2-core CPU; the paper's recipe is the configs without the overrides):

    python training/finetune.py splice_sites --config training/configs/splice_sites.yaml \
        --genome=runs/pieces/hg19_pieces.fa --annotation=runs/pieces/genes.tsv --output_dir=runs/ss \
        --learning_rate=5e-4 --max_folds=2 --max_epochs=6 --patience=3 --plateau_patience=1
    python training/finetune.py branchpoints --config training/configs/branchpoints.yaml \
        --bed=runs/pieces/mercer.bed --genome=runs/pieces/hg19_pieces.fa --output_dir=runs/bp \
        --learning_rate=5e-4 --max_epochs=20 --patience=5 --plateau_patience=2

Add ``--model=FOLDER`` to start from another checkpoint; ``--model=runs/pieces/random_demo``
(written by this script) is the no-pretraining control: the demo model's shape, random weights.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

from splicebert_plugin.io.fasta import write_fasta
from splicebert_plugin.training.genome_pieces import TABLE_HEADER, read_piece, shifted_rows, table_rows

REPO = Path(__file__).resolve().parents[1]


def _random_demo(folder: Path) -> None:
    """A model of the demo model's shape with random weights (seed 0): the no-pretraining control."""
    import torch

    from splicebert_plugin import DEMO_MODEL, SpliceBertConfig, SpliceBertForMaskedLM

    torch.manual_seed(0)
    SpliceBertForMaskedLM(SpliceBertConfig.from_pretrained(DEMO_MODEL)).save_pretrained(str(folder))


def write_attention_pairs(source: Path, out: Path, pieces: dict) -> dict:
    """The BEDPE pairs of ``source`` inside the pieces, shifted to piece coordinates, one file per group."""
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for path in sorted(source.glob("*.bedpe.gz")):
        group = "mane_intron" if "MANE" in path.name else path.name.split(".")[1]
        rows = []
        with gzip.open(path, "rt") as handle:
            for line in handle:
                fields = line.rstrip("\n").split("\t")
                if fields[0] not in pieces or fields[3] != fields[0]:
                    continue
                offset, length = pieces[fields[0]]
                coords = [int(fields[i]) - offset for i in (1, 2, 4, 5)]
                if min(coords) >= 0 and max(coords) <= length:
                    rows.append("\t".join([fields[0], str(coords[0]), str(coords[1]), fields[3], str(coords[2]),
                                           str(coords[3]), *fields[6:]]))
        if rows:
            (out / f"{group}.bedpe").write_text("\n".join(rows) + "\n")
            counts[group] = len(rows)
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="the data bundle (with genome/hg19_pieces, branchpoints/)")
    parser.add_argument("--out", default=str(REPO / "runs/pieces"))
    args = parser.parse_args(argv)
    genome, out = Path(args.data) / "genome", Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = table_rows(genome / "hg19_pieces/spliceai_grch37_genes_inside_pieces.tsv")
    pieces = {}  # contig -> (offset, length)
    table, records = [TABLE_HEADER], []
    for piece in sorted({row[7] for row in rows}):
        piece_rows = [row for row in rows if row[7] == piece]
        contig, offset = "chr" + piece_rows[0][1], int(piece_rows[0][8]) - 1
        _, sequence = read_piece(genome / piece)
        records.append((contig, sequence))
        pieces[contig] = (offset, len(sequence))
        table.extend(shifted_rows(piece_rows, offset))
    write_fasta(out / "hg19_pieces.fa", records)
    (out / "genes.tsv").write_text("\n".join(table) + "\n")
    kept = 0
    with gzip.open(Path(args.data) / "branchpoints/mercer_dataset.hg19.bed.gz", "rt") as bed, \
            open(out / "mercer.bed", "w") as handle:
        for line in bed:
            fields = line.rstrip("\n").split("\t")
            if fields[0] not in pieces:
                continue
            offset, length = pieces[fields[0]]
            start, end = int(fields[1]) - offset, int(fields[2]) - offset
            if 0 <= start and end <= length:
                handle.write("\t".join([fields[0], str(start), str(end), *fields[3:]]) + "\n")
                kept += 1
    attention = write_attention_pairs(Path(args.data) / "attention_pairs", out / "attention", pieces)
    _random_demo(out / "random_demo")
    print(f"{out}: {len(pieces)} contigs, {len(table) - 1} transcripts, {kept} branchpoint regions, "
          f"attention pairs {attention}, random_demo/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
