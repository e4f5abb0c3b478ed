"""Annotation readers checked against the real genome: introns start GT/GC and end AG."""

from pathlib import Path

import pytest

from splicebert_plugin.io.annotation import AnnotationError, read_annotation
from splicebert_plugin.io.genome import Genome, GenomeError
from splicebert_plugin.windows import orient

from .test_scoring import FASTA, GENES

DATA = Path(__file__).parent / "data"
GTF = DATA / "hg38_alpha_globin/refseq.hg38.chr16_186964-397118.relative_coords.gtf"
HG38 = DATA / "hg38_alpha_globin/hg38_chr16_186964-397118.fa"


def canonical_fraction(index, genome):
    from splicebert_plugin.io.contigs import ContigMap

    names = ContigMap(genome.contigs, "genome")
    good = total = 0
    for chrom in index.contigs:
        for gene in index.overlapping(chrom, 0, 10**9):
            for (_, left_end), (right_start, _) in zip(gene.exons, gene.exons[1:]):
                intron = orient(genome.fetch(names.get(chrom), left_end, right_start)[0], gene.strand)
                total += 1
                good += intron[:2] in ("GT", "GC") and intron[-2:] == "AG"
    return good / total, total


def test_gtf_coordinates_and_strands_match_the_genome():
    index = read_annotation(GTF)
    with Genome(HG38) as genome:
        fraction, introns = canonical_fraction(index, genome)
    assert introns > 100 and fraction == 1.0
    gene = next(g for g in index.overlapping("chr16", 47582, 47583) if g.name == "NR_104317")
    assert gene.exons[0] == (47582, 47894) and gene.strand == "+"  # GTF 47583-47894, 1-based inclusive


def test_spliceai_table_coordinates_match_the_genome():
    index = read_annotation(GENES)
    with Genome(FASTA) as genome:
        fraction, introns = canonical_fraction(index, genome)
    assert introns == 35 and fraction == 1.0  # 42 exons in 7 genes


def test_gff3_gives_the_same_genes_as_gtf(tmp_path):
    lines = []
    seen = set()
    for line in GTF.read_text().splitlines():
        f = line.split("\t")
        tx = f[8].split('transcript_id "')[1].split('"')[0]
        gene = f[8].split('gene_id "')[1].split('"')[0]
        if tx not in seen:
            seen.add(tx)
            lines.append("\t".join(f[:2] + ["mRNA"] + f[3:8] + [f"ID={tx};gene={gene}"]))
        lines.append("\t".join(f[:8] + [f"Parent={tx}"]))
    gff = tmp_path / "a.gff3"
    gff.write_text("##gff-version 3\n" + "\n".join(lines) + "\n")
    from_gff = {(g.name, g.exons) for c in read_annotation(gff).contigs for g in read_annotation(gff).overlapping(c, 0, 10**9)}
    gtf = read_annotation(GTF)
    from_gtf = {(g.name, g.exons) for c in gtf.contigs for g in gtf.overlapping(c, 0, 10**9)}
    assert from_gff == from_gtf


def test_overlap_query_against_a_scan():
    index = read_annotation(GTF)
    genes = index.overlapping("chr16", 0, 10**9)
    for position in range(0, 210_000, 997):
        expected = {g.name for g in genes if g.start <= position < g.end}
        assert {g.name for g in index.overlapping("chr16", position, position + 1)} == expected


def test_bad_annotation_errors(tmp_path):
    with pytest.raises(AnnotationError, match="does not exist"):
        read_annotation(tmp_path / "missing.gtf")
    bad = tmp_path / "bad.gtf"
    bad.write_text("chr1\tx\texon\t10\n")
    with pytest.raises(AnnotationError, match="line 1.*9 tab-separated"):
        read_annotation(bad)
    table = tmp_path / "t.tsv"
    table.write_text("#NAME\tCHROM\tSTRAND\n")
    with pytest.raises(AnnotationError, match="lacks column"):
        read_annotation(table)


def test_genome_fetch_pads_off_contig_with_n():
    with Genome(HG38) as genome:
        length = genome.lengths["chr16"]
        seq, off = genome.fetch("chr16", -3, 2)
        assert seq[:3] == "NNN" and len(seq) == 5 and off
        seq, off = genome.fetch("chr16", length - 2, length + 3)
        assert seq[2:] == "NNN" and off
        assert genome.fetch("chr16", 100, 110) == (genome.fetch("chr16", 100, 110)[0], False)


def test_unreadable_fasta(tmp_path):
    fasta = tmp_path / "x.fa"
    fasta.write_text("this is not fasta\n")
    (tmp_path / "x.fa.fai").write_text("garbage\n")
    with pytest.raises(GenomeError, match="x.fa"):
        Genome(fasta)
