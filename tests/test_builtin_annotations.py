"""-A grch37 / grch38: GENCODE's GTF from a local server in GENCODE's layout, checked against the
release's MD5SUMS, turned into a canonical-transcript table, cached, and used like any annotation."""

import gzip
import hashlib

import pytest

from splicebert_plugin.sources import gencode as builtin_annotations
from splicebert_plugin.sources.gencode import GencodeSource
from splicebert_plugin.cli.main import main
from splicebert_plugin.sources.downloads import DownloadError
from splicebert_plugin.io.annotation import AnnotationError, read_annotation
from splicebert_plugin.sources.gencode import annotation_file

from .conftest import FASTA, GENES, GTF, VCF, cli_error, data_lines


def gencode_lines(genes):
    """GENCODE-layout GTF lines (gene, transcript, exon; gene_type, gene_name, tags) for
    ``(gene_id, name, gene_type, chrom, strand, [(transcript_id, exons, canonical)])``."""
    lines = []
    for gene_id, name, gene_type, chrom, strand, transcripts in genes:
        start = min(s for _, exons, _ in transcripts for s, _ in exons)
        end = max(e for _, exons, _ in transcripts for _, e in exons)
        common = f'gene_id "{gene_id}"; gene_type "{gene_type}"; gene_name "{name}"; level 2;'
        lines.append(f"{chrom}\tHAVANA\tgene\t{start + 1}\t{end}\t.\t{strand}\t.\t{common}")
        for tx_id, exons, canonical in transcripts:
            tags = ' tag "basic";' + (' tag "Ensembl_canonical";' if canonical else "")
            tx = f'{common} transcript_id "{tx_id}"; transcript_type "{gene_type}";{tags}'
            lines.append(f"{chrom}\tHAVANA\ttranscript\t{exons[0][0] + 1}\t{exons[-1][1]}\t.\t{strand}\t.\t{tx}")
            ordered = exons if strand == "+" else exons[::-1]
            for number, (s, e) in enumerate(ordered, start=1):
                lines.append(f"{chrom}\tHAVANA\texon\t{s + 1}\t{e}\t.\t{strand}\t.\t{tx} exon_number {number};")
    return lines


def serve_gencode(file_server, monkeypatch, assembly, lines, *, md5=None):
    folder = file_server.root / "release_46"
    folder.mkdir(exist_ok=True)
    name = "gencode.v46.basic.annotation.gtf.gz" if assembly == "grch38" else "gencode.v46lift37.basic.annotation.gtf.gz"
    data = gzip.compress(("##description: test\n" + "\n".join(lines) + "\n").encode())
    (folder / name).write_bytes(data)
    (folder / "MD5SUMS").write_text(f"{md5 or hashlib.md5(data).hexdigest()}  {name}\n0123  other.gtf.gz\n")
    source = GencodeSource(assembly, 46, file_server.url("release_46"), name)
    monkeypatch.setitem(builtin_annotations.SOURCES, assembly, source)
    return source


def refseq_as_gencode():
    """The RefSeq transcripts of the hg38 alpha-globin slice as GENCODE genes (one transcript
    each, canonical), plus a pseudogene that must be left out and a gene whose canonical
    transcript is not its longest."""
    transcripts = {}
    for line in GTF.read_text().splitlines():
        f = line.split("\t")
        if f[2] != "exon":
            continue
        tx = f[8].split('transcript_id "')[1].split('"')[0]
        transcripts.setdefault(tx, (f[0], f[6], []))[2].append((int(f[3]) - 1, int(f[4])))
    genes = []
    for tx, (chrom, strand, exons) in sorted(transcripts.items()):
        kind = "protein_coding" if tx.startswith("NM_") else "lncRNA"
        genes.append((f"ENSG_{tx}", tx, kind, chrom, strand, [(f"ENST_{tx}", sorted(set(exons)), True)]))
    genes.append(("ENSG_PSEUDO", "PSEUDO1", "processed_pseudogene", "chr16", "+",
                  [("ENST_P", [(1000, 1500)], True)]))
    genes.append(("ENSG_TWO", "TWO", "protein_coding", "chr16", "-",
                  [("ENST_LONG", [(5000, 5400), (6000, 6900)], False), ("ENST_CANON", [(5100, 5400), (6000, 6300)], True)]))
    return genes


def test_grch38_table_from_gencode_equals_the_source_transcripts(file_server, cache, monkeypatch):
    serve_gencode(file_server, monkeypatch, "grch38", gencode_lines(refseq_as_gencode()))
    requests = len(file_server.requests)
    with pytest.raises(AnnotationError, match="grch38 does not exist"):
        read_annotation("grch38")  # the file reader never downloads: names are resolved above it
    assert len(file_server.requests) == requests
    index = read_annotation(annotation_file("grch38"))
    table = cache / "annotations/grch38.gencode.v46.canonical.tsv.gz"
    assert table.is_file()
    derived = {g.name: g for c in index.contigs for g in index.overlapping(c, 0, 10**9)}
    refseq = read_annotation(GTF)
    for gene in (g for c in refseq.contigs for g in refseq.overlapping(c, 0, 10**9)):
        mine = derived[gene.name]
        assert (mine.chrom, mine.strand, mine.exons) == (gene.chrom, gene.strand, gene.exons), gene.name
    assert "PSEUDO1" not in derived  # not protein_coding or lncRNA
    assert derived["TWO"].exons == ((5100, 5400), (6000, 6300))  # the Ensembl_canonical one, not the longest
    requests = len(file_server.requests)
    annotation_file("GRCh38")  # cached: no second transfer, any case
    assert len(file_server.requests) == requests


def test_grch37_on_the_bundled_example_scores_as_its_own_table(file_server, cache, monkeypatch, tiny_510, tmp_path):
    genes = []
    for row in GENES.read_text().splitlines()[1:]:
        name, chrom, strand, _, _, starts, ends = row.split("\t")[:7]
        exons = list(zip((int(x) for x in starts.split(",") if x), (int(x) for x in ends.split(",") if x)))
        genes.append((f"ENSG_{name}", name, "protein_coding", f"chr{chrom}", strand, [(f"ENST_{name}", exons, True)]))
    serve_gencode(file_server, monkeypatch, "grch37", gencode_lines(genes))
    common = ["score", "-I", str(VCF), "-R", str(FASTA), "-m", str(tiny_510), "-q"]
    assert main(common + ["-A", "grch37", "-O", str(tmp_path / "builtin.vcf")]) == 0
    assert main(common + ["-A", str(GENES), "-O", str(tmp_path / "table.vcf")]) == 0
    assert data_lines(tmp_path / "builtin.vcf") == data_lines(tmp_path / "table.vcf")


def test_builtin_annotation_failures(file_server, cache, monkeypatch, capsys, tmp_path):
    serve_gencode(file_server, monkeypatch, "grch38", gencode_lines(refseq_as_gencode()), md5="0" * 32)
    with pytest.raises(DownloadError, match="MD5"):
        annotation_file("grch38")
    assert not (cache / "annotations/grch38.gencode.v46.canonical.tsv.gz").exists()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    line = cli_error(["score", "-I", VCF, "-R", FASTA, "-A", "grch38", "-O", tmp_path / "o.vcf"], capsys)
    assert "splicebert download --annotation grch38" in line
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert "choose grch37 or grch38" in cli_error(["download", "--annotation", "hg17"], capsys)


def test_download_command_prepares_the_annotation(file_server, cache, monkeypatch, capsys):
    serve_gencode(file_server, monkeypatch, "grch38", gencode_lines(refseq_as_gencode()))
    assert main(["download", "--annotation", "grch38", "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("grch38\t") and out.strip().endswith("grch38.gencode.v46.canonical.tsv.gz")
