"""Rebuild the bundled scoring example from the hg19 pieces of the data bundle (run from the repository root).

    python scripts/make_example_data.py path/to/data/genome/hg19_pieces

Writes src/splicebert_plugin/resources/example/{hg19_chr19_1-560000.fa,.fai,genes.tsv,variants.vcf}.
The FASTA is the first 560,000 nt of hg19 chr19 (so coordinates are the real ones); the genes are
SpliceAI's GRCh37 canonical transcripts lying inside it; the variants are placed on real sites.
"""

import sys
from pathlib import Path

from splicebert_plugin.io.fasta import write_fasta
from splicebert_plugin.training.genome_pieces import TABLE_HEADER, read_piece

LENGTH = 560_000
GENES = ("OR4F17", "PLPP2", "MIER2", "THEG", "MADCAM1", "TPGS1", "CDC34")


def main(pieces: str) -> None:
    pieces = Path(pieces)
    out = Path("src/splicebert_plugin/resources/example")
    sequence = read_piece(pieces / "hg19_chr19_1-1500000.fa.gz")[1][:LENGTH]
    fasta = out / "hg19_chr19_1-560000.fa"
    Path(str(fasta) + ".fai").unlink(missing_ok=True)
    write_fasta(fasta, [("chr19", sequence)])

    rows = [line for line in (pieces / "spliceai_grch37_genes_inside_pieces.tsv").read_text().splitlines()[1:]
            if line.split("\t")[0] in GENES]
    (out / "genes.tsv").write_text(TABLE_HEADER + "\n" + "\n".join("\t".join(r.split("\t")[:7]) for r in rows) + "\n")

    def base(pos1, n=1):
        return sequence[pos1 - 1 : pos1 - 1 + n].upper()

    variants = [
        # (pos1, ref, alts, id, what)
        (496552, base(496552), ["A"], "donor_MADCAM1_ex1", "G of the exon-1 donor GT (+ strand)"),
        (535836, base(535836), ["C"], "acceptor_CDC34_ex2", "G of the exon-2 acceptor AG (+ strand)"),
        (308800, base(308800), ["T"], "donor_MIER2", "donor G (minus strand, genomic C)"),
        (320000, base(320000), ["G" if base(320000) != "G" else "A"], "deep_intronic_MIER2", "deep intronic"),
        (536290, base(536290), ["T" if base(536290) != "T" else "C"], "exonic_CDC34_ex3", "exonic SNV"),
        (371249, base(371249, 3), [base(371249)], "deletion_THEG", "2-nt deletion (anchor base + 2)"),
        (510000, base(510000), [base(510000) + "GT"], "insertion_TPGS1", "2-nt insertion"),
        (537050, base(537050), [b for b in "ACGT" if b != base(537050)][:2], "multiallelic_CDC34", "two ALTs"),
        (537100, "A" if base(537100) != "A" else "C", ["G"], "wrong_ref", "REF differs from the genome"),
        (17_000_000, "A", ["G"], "other_contig", "contig 22 is not in the FASTA"),
        (200000, base(200000), ["A" if base(200000) != "A" else "C"], "intergenic", "no gene overlaps"),
        (330000, base(330000), ["<DEL>"], "symbolic", "symbolic ALT"),
    ]
    lines = [
        "##fileformat=VCFv4.2",
        "##source=splicebert-plugin example (real hg19 sites; variants chosen for the demo, not observed)",
        "##reference=hg19",
        "##contig=<ID=19,length=59128983>",
        "##contig=<ID=22,length=51304566>",
        '##INFO=<ID=WHAT,Number=1,Type=String,Description="What the example record shows">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO",
    ]
    for pos1, ref, alts, vid, what in sorted(variants, key=lambda v: (v[3] == "other_contig", v[0])):
        chrom = "22" if vid == "other_contig" else "19"
        lines.append(f"{chrom}\t{pos1}\t{vid}\t{ref}\t{','.join(alts)}\t.\tPASS\tWHAT={what.replace(' ', '_').replace(',', '')}")
    (out / "variants.vcf").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python scripts/make_example_data.py path/to/data/genome/hg19_pieces")
    main(sys.argv[1])
