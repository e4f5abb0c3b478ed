"""Annotation readers checked against the real genome: introns start GT/GC and end AG."""

import gzip
import os
import shutil

import pytest

from splicebert_plugin.io.annotation import AnnotationError, read_annotation, read_transcripts
from splicebert_plugin.io.genome import Genome, GenomeError
from splicebert_plugin.scoring.windows import orient

from .conftest import FASTA, GENES, GTF, HG38


def canonical_fraction(index, genome):
    from splicebert_plugin.io.contigs import ContigMap

    names = ContigMap(genome.contigs, "genome")
    good = total = 0
    for chrom in index.contigs:
        for gene in index.overlapping(chrom, 0, 10**9):
            for (_, left_end), (right_start, _) in zip(gene.exons[:-1], gene.exons[1:], strict=True):
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


def genes_of(index):
    return sorted((g.chrom, g.name, g.strand, g.exons) for c in index.contigs for g in index.overlapping(c, 0, 10**9))


def gtf_line(chrom, feature, start, end, strand, attrs):
    """A GTF line; ``start``/``end`` 1-based inclusive."""
    text = " ".join(f'{k} "{v}";' for k, v in attrs.items())
    return f"{chrom}\ttest\t{feature}\t{start}\t{end}\t.\t{strand}\t.\t{text}"


def test_same_gene_name_at_two_loci_stays_two_genes(tmp_path):
    """UCSC-style GTFs use the symbol as gene_id: two copies of a gene far apart are two genes,
    and each variant meets the copy that overlaps it."""
    lines = []
    for offset, tx in ((0, "NM_1"), (50_000, "NM_1_dup")):
        attrs = {"gene_id": "DUP", "transcript_id": tx}
        lines += [gtf_line("chr1", "exon", 1001 + offset, 1100 + offset, "+", attrs),
                  gtf_line("chr1", "exon", 2001 + offset, 2100 + offset, "+", attrs)]
    path = tmp_path / "dup.gtf"
    path.write_text("\n".join(lines) + "\n")
    index = read_annotation(path)
    assert genes_of(index) == [("chr1", "DUP", "+", ((1000, 1100), (2000, 2100))),
                               ("chr1", "DUP", "+", ((51000, 51100), (52000, 52100)))]
    assert [g.start for g in index.overlapping("chr1", 51500, 51501)] == [51000]


def test_same_transcript_id_at_two_loci_is_not_merged(tmp_path):
    """A transcript copied to a second locus (same id, same contig and strand) stays two
    transcripts, whether the copy starts with a transcript line or just repeats exon numbers."""
    attrs = {"gene_id": "G", "transcript_id": "T1", "gene_name": "G"}
    with_tx_lines = [
        gtf_line("chr2", "transcript", 101, 500, "-", attrs),
        gtf_line("chr2", "exon", 101, 200, "-", {**attrs, "exon_number": "2"}),
        gtf_line("chr2", "exon", 401, 500, "-", {**attrs, "exon_number": "1"}),
        gtf_line("chr2", "transcript", 90_101, 90_500, "-", attrs),
        gtf_line("chr2", "exon", 90_101, 90_200, "-", {**attrs, "exon_number": "2"}),
        gtf_line("chr2", "exon", 90_401, 90_500, "-", {**attrs, "exon_number": "1"}),
    ]
    no_tx_lines = [line for line in with_tx_lines if "\ttranscript\t" not in line]
    for lines in (with_tx_lines, no_tx_lines):
        path = tmp_path / "copies.gtf"
        path.write_text("\n".join(lines) + "\n")
        transcripts = read_transcripts(path)
        assert sorted(t.exons for t in transcripts) == [((100, 200), (400, 500)), ((90100, 90200), (90400, 90500))]
        assert len(genes_of(read_annotation(path))) == 2


def test_gff3_multiple_parents_quotes_encoding_and_ensembl_prefixes(tmp_path):
    gff = tmp_path / "ensembl.gff3"
    gff.write_text("\n".join([
        "##gff-version 3",
        "chr3\tens\tgene\t1001\t9000\t.\t+\t.\tID=gene:ENSG1;Name=\"MY%2CGENE\";biotype=protein_coding",
        "chr3\tens\tmRNA\t1001\t9000\t.\t+\t.\tID=transcript:ENST1;Parent=gene:ENSG1;Name=MY-201;tag=basic",
        "chr3\tens\tmRNA\t1001\t5000\t.\t+\t.\tID=transcript:ENST2;Parent=gene:ENSG1;Name=MY-202;tag=Ensembl_canonical",
        # one exon line shared by both transcripts
        "chr3\tens\texon\t1001\t1200\t.\t+\t.\tParent=transcript:ENST1,transcript:ENST2",
        "chr3\tens\texon\t4001\t5000\t.\t+\t.\tParent=transcript:ENST2",
        "chr3\tens\texon\t7001\t9000\t.\t+\t.\tParent=transcript:ENST1",
        "chr3\tens\tncRNA_gene\t20001\t20500\t.\t-\t.\tID=gene:ENSG2;Name=NC1",
        "chr3\tens\texon\t20001\t20500\t.\t-\t.\tParent=gene:ENSG2",
    ]) + "\n")
    transcripts = {t.exons: t.name for t in read_transcripts(gff)}
    assert transcripts == {((1000, 1200), (7000, 9000)): "MY,GENE", ((1000, 1200), (4000, 5000)): "MY,GENE",
                           ((20000, 20500),): "NC1"}
    # the canonical-tagged transcript wins although the other one is longer
    assert genes_of(read_annotation(gff)) == [("chr3", "MY,GENE", "+", ((1000, 1200), (4000, 5000))),
                                              ("chr3", "NC1", "-", ((20000, 20500),))]


def test_gff3_with_quoted_values_is_not_mistaken_for_gtf(tmp_path):
    gff = tmp_path / "quoted.gff"
    gff.write_text('chr1\tx\tmRNA\t11\t100\t.\t+\t.\tID="tx1";gene="ABC"\n'
                   'chr1\tx\texon\t11\t100\t.\t+\t.\tParent="tx1"\n')
    assert genes_of(read_annotation(gff)) == [("chr1", "ABC", "+", ((10, 100),))]


@pytest.mark.parametrize("content,message", [
    ("chr1\tx\texon\t10\t20\t.\t+\t.\tgene_id \"G\";\n", "line 1: GTF exon without transcript_id"),
    ("##gff-version 3\nchr1\tx\texon\t10\t20\t.\t+\t.\tID=e1\n", "line 2: GFF3 exon without a Parent"),
    ("chr1\tx\texon\tten\t20\t.\t+\t.\tgene_id \"G\"; transcript_id \"T\";\n", "line 1: start/end"),
    ("chr1\tx\texon\t30\t20\t.\t+\t.\tgene_id \"G\"; transcript_id \"T\";\n", "line 1: end 20 is before"),
    ('chr1\tx\texon\t10\t20\t.\t+\t.\tgene_id "G"; transcript_id "T"; broken "\n', "line 1: cannot read the GTF"),
    ("##gff-version 3\nchr1\tx\texon\t10\t20\t.\t+\t.\tParent=t1;junk\n", "line 2: GFF3 attribute 'junk'"),
])
def test_malformed_annotation_lines_are_named(tmp_path, content, message):
    path = tmp_path / "bad.gtf"
    path.write_text(content)
    with pytest.raises(AnnotationError, match=message):
        read_annotation(path)


def test_annotation_encoding_and_compression(tmp_path):
    good = GENES.read_bytes()
    bom = tmp_path / "bom.tsv"
    bom.write_bytes(b"\xef\xbb\xbf" + good)
    assert genes_of(read_annotation(bom)) == genes_of(read_annotation(GENES))
    latin = tmp_path / "latin.tsv"
    latin.write_bytes(good.replace(b"MADCAM1", b"MADCAM\xe91", 1))
    with pytest.raises(AnnotationError, match=r"latin.tsv line \d+: byte 0xe9"):
        read_annotation(latin)
    packed = gzip.compress(GTF.read_bytes())
    truncated = tmp_path / "cut.gtf.gz"
    truncated.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(AnnotationError, match="truncated"):
        read_annotation(truncated)


def _fasta_copy(tmp_path):
    fasta = tmp_path / "g.fa"
    shutil.copyfile(HG38, fasta)
    shutil.copyfile(f"{HG38}.fai", f"{fasta}.fai")
    return fasta


def test_stale_index_older_than_the_fasta_is_rebuilt(tmp_path):
    fasta = _fasta_copy(tmp_path)
    index = tmp_path / "g.fa.fai"
    good = index.read_text()
    index.write_text(good.replace("\t210155\t", "\t1000\t"))  # a wrong length...
    stamp = fasta.stat().st_mtime - 100
    os.utime(index, (stamp, stamp))  # ...in an index older than the FASTA
    with Genome(fasta) as genome:
        assert genome.lengths["chr16"] == 210155
    assert index.read_text() == good


def test_index_that_does_not_fit_the_fasta_is_rebuilt_or_refused(tmp_path, monkeypatch):
    fasta = _fasta_copy(tmp_path)
    index = tmp_path / "g.fa.fai"
    good = index.read_text()
    with open(fasta, "a") as handle:  # a contig added after indexing
        handle.write(">extra\nACGTACGTAC\n")
    stamp = fasta.stat().st_mtime + 10
    os.utime(index, (stamp, stamp))  # newer than the FASTA: only its content gives it away
    with Genome(fasta) as genome:
        assert genome.lengths["extra"] == 10
    assert index.read_text().startswith(good)
    # not writable: refused with the fix, the stale index left alone
    index.write_text(good)
    os.utime(index, (stamp, stamp))
    import splicebert_plugin.io.genome as genome_module

    monkeypatch.setattr(genome_module.os, "access", lambda path, mode: False)  # (tests may run as root)
    with pytest.raises(GenomeError, match="stale.*does not list every contig.*samtools faidx"):
        Genome(fasta)
    assert index.read_text() == good


def test_fasta_with_a_byte_order_mark_is_refused(tmp_path):
    fasta = tmp_path / "bom.fa"
    fasta.write_bytes(b"\xef\xbb\xbf>chr1\nACGT\n")
    (tmp_path / "bom.fa.fai").write_text("chr1\t4\t10\t4\t5\n")
    with pytest.raises(GenomeError, match="byte-order mark"):
        Genome(fasta)
