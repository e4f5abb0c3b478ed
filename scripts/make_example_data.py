"""Rebuild the bundled example from the data bundle (run from the repository root).

    python scripts/make_example_data.py path/to/data

Writes src/splicebert_plugin/resources/example/: hg19_chr19_1-560000.fa (+ .fai), genes.tsv,
variants.vcf (scoring); splice_sites.bed (embeddings: annotated donors and acceptors of the genes
and as many GT/AG decoys inside them); mane_introns_chr19.bedpe (attention: the authors' MANE
intron pairs inside the slice). The FASTA is the first 560,000 nt of hg19 chr19 (so coordinates
are the real ones); the genes are SpliceAI's GRCh37 canonical transcripts lying inside it; the
variants are placed on real sites.
"""

import gzip
import sys
from pathlib import Path

from splicebert_plugin.io.fasta import write_fasta
from splicebert_plugin.training.genome_pieces import TABLE_HEADER, read_piece

LENGTH = 560_000
GENES = ("OR4F17", "PLPP2", "MIER2", "THEG", "MADCAM1", "TPGS1", "CDC34")


def write_splice_sites(out: Path) -> int:
    """Donor/acceptor sites of the example genes and one GT/AG decoy per site, as a BED of single
    nucleotides: the G of the donor GT and of the acceptor AG (transcript orientation); name
    ``<kind>_<site|decoy>|<gene locus>``."""
    from splicebert_plugin.io.annotation import read_transcripts
    from splicebert_plugin.io.genome import Genome
    from splicebert_plugin.training.finetune.splice_sites import splice_site_examples

    rows = []
    with Genome(out / "hg19_chr19_1-560000.fa") as genome:
        for kind in ("donor", "acceptor"):
            examples = splice_site_examples(genome, read_transcripts(out / "genes.tsv"), kind, width=400, seed=0)
            for e in examples.examples:
                # the boundary lies between b - 1 and b; the G of GT (donor) / AG (acceptor), on the strand
                g = {("donor", "+"): e.boundary, ("donor", "-"): e.boundary - 1,
                     ("acceptor", "+"): e.boundary - 1, ("acceptor", "-"): e.boundary}[(kind, e.strand)]
                name = f"{kind}_{'site' if e.label else 'decoy'}|{e.locus}"
                rows.append((e.chrom, g, g + 1, name, 0, e.strand))
    rows.sort(key=lambda r: (r[1], r[3]))
    (out / "splice_sites.bed").write_text("".join("\t".join(str(v) for v in r) + "\n" for r in rows))
    return len(rows)


def write_mane_pairs(attention: Path, out: Path) -> int:
    """The authors' MANE intron pairs (donor, acceptor) that lie inside the example slice."""
    with gzip.open(attention / "gencode.v41lift37.MANE.intron.for_attention.bedpe.gz", "rt") as handle:
        rows = [line for line in handle if line.split("\t")[0] == "chr19" and int(line.split("\t")[5]) <= LENGTH]
    (out / "mane_introns_chr19.bedpe").write_text("".join(rows))
    return len(rows)


def write_site_snvs(out: Path, sequence: str) -> int:
    """One SNV per site of splice_sites.bed (the G of GT/AG to A, in transcript orientation):
    annotated sites labelled 1, decoys 0, for ``splicebert evaluate``. The labels are defined by
    position, so the distance-to-splice-site baseline separates them perfectly by construction:
    the file demonstrates the tool, it is not a benchmark."""
    lines, labels = ["##fileformat=VCFv4.2", "##contig=<ID=19,length=59128983>",
                     "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"], ["ID\tCHROM\tPOS\tREF\tALT\tLABEL"]
    for k, line in enumerate((out / "splice_sites.bed").read_text().splitlines()):
        chrom, start, _, name, _, strand = line.split("\t")
        position = int(start)
        ref = sequence[position].upper()
        alt = "A" if strand == "+" else "T"  # G>A on the transcript strand
        vid = f"snv{k}_{name.split('|')[0]}"
        lines.append(f"19\t{position + 1}\t{vid}\t{ref}\t{alt}\t.\t.\t.")
        labels.append(f"{vid}\t19\t{position + 1}\t{ref}\t{alt}\t{int(name.split('|')[0].endswith('_site'))}")
    (out / "site_snvs.vcf").write_text("\n".join(lines) + "\n")
    (out / "site_snvs.labels.tsv").write_text("\n".join(labels) + "\n")
    return len(labels) - 1


def main(data: str) -> None:
    pieces = Path(data) / "genome/hg19_pieces"
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
    print(f"{write_splice_sites(out)} sites, {write_mane_pairs(Path(data) / 'attention_pairs', out)} intron pairs, "
          f"{write_site_snvs(out, sequence)} labelled SNVs")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python scripts/make_example_data.py path/to/data")
    main(sys.argv[1])
