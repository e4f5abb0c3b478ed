"""`splicebert score` end to end on the bundled example, and its behaviour on bad input."""

import gzip
import shutil

import pytest

from splicebert_plugin.cli.main import main

from .conftest import EXAMPLE, FASTA, GENES, VCF, cli_error, data_lines, torchrun

EXPECTED_REASONS = {
    "intergenic": "SpliceBERT_REASON=NO_OVERLAPPING_GENE",
    "wrong_ref": "SpliceBERT_REASON=REF_MISMATCH",
    "other_contig": "SpliceBERT_REASON=CONTIG_NOT_IN_FASTA",
    "symbolic": "UNSUPPORTED_ALLELE",
}


def _digests(folder):
    import hashlib

    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def example_run(tiny_510, tmp_path_factory):
    out = tmp_path_factory.mktemp("score")
    before = _digests(EXAMPLE)
    argv = ["score", "--example", "-m", str(tiny_510), "-O", str(out / "out.vcf.gz"),
            "--table", str(out / "out.tsv"), "--scores", "KL_CONTEXT,MAX_KL,SPLICE_SITE_KL,DELTA_P", "-q"]
    assert main(argv) == 0
    assert main(argv[:4] + ["-O", str(out / "out.vcf"), "--table", str(out / "out.parquet"), "-q"]) == 0
    out.joinpath("inputs_before.txt").write_text(repr(before))
    return out


def test_every_record_in_order_and_unchanged_but_info(example_run):
    original = data_lines(VCF)
    for output in ("out.vcf.gz", "out.vcf"):
        written = data_lines(example_run / output)
        assert len(written) == len(original) == 12
        for before, after in zip(original, written, strict=True):
            b, a = before.split("\t"), after.split("\t")
            assert a[:7] == b[:7] and a[8:] == b[8:]
            assert a[7].startswith(b[7] + ";SpliceBERT")  # the input INFO is kept, ours appended


def test_documented_reasons_and_scores(example_run):
    by_id = {line.split("\t")[2]: line.split("\t")[7] for line in data_lines(example_run / "out.vcf.gz")}
    for vid, expected in EXPECTED_REASONS.items():
        assert expected in by_id[vid], (vid, by_id[vid])
    for vid in ("donor_MADCAM1_ex1", "acceptor_CDC34_ex2", "donor_MIER2", "deletion_THEG", "insertion_TPGS1"):
        entry = by_id[vid].split("SpliceBERT=")[1].split("|")
        assert float(entry[3]) < 0  # KL_CONTEXT present
    multi = by_id["multiallelic_CDC34"].split("SpliceBERT=")[1].split(",")
    assert [e.split("|")[0] for e in multi] == ["A", "G"]
    donor = by_id["donor_MADCAM1_ex1"].split("SpliceBERT=")[1].split("|")
    assert donor[1:3] == ["MADCAM1", "+"] and donor[5] != "."  # splice-site KL at the donor itself


def test_output_parses_with_cyvcf2_and_header_declares_the_format(example_run):
    cyvcf2 = pytest.importorskip("cyvcf2")
    vcf = cyvcf2.VCF(str(example_run / "out.vcf.gz"))
    info = vcf.get_header_type("SpliceBERT")
    assert "Format: ALLELE|SYMBOL|STRAND|KL_CONTEXT|MAX_KL|SPLICE_SITE_KL|DELTA_P|NOTE" in info["Description"]
    records = list(vcf)
    assert len(records) == len(data_lines(VCF))
    scored = [r for r in records if r.INFO.get("SpliceBERT")]
    assert len(scored) == 9


def test_tables_have_a_row_per_allele_and_gene(example_run):
    import pandas as pd

    tsv = pd.read_csv(example_run / "out.tsv", sep="\t")
    parquet = pd.read_parquet(example_run / "out.parquet")
    assert list(tsv["ID"]) == list(parquet["ID"])
    assert len(tsv) == 13  # 12 records, one with two ALTs
    assert set(tsv.loc[tsv.ID == "wrong_ref", "NOTE"]) == {"REF_MISMATCH"}
    assert tsv["KL_CONTEXT"].notna().sum() == 9  # 10 entries, the symbolic ALT unscored
    scored = tsv[tsv.KL_CONTEXT.notna()].reset_index(drop=True)
    assert (scored["KL_CONTEXT"] - parquet[parquet.KL_CONTEXT.notna()].reset_index(drop=True)["KL_CONTEXT"]).abs().max() < 1e-12


def test_default_model_is_the_bundled_demo_model(tmp_path):
    assert main(["score", "--example", "-O", str(tmp_path / "o.vcf"), "-q"]) == 0
    header = [line for line in open(tmp_path / "o.vcf") if line.startswith("##SpliceBERT_model")]
    assert "demo" in header[0] and "not the paper" in header[0]
    scored = [line for line in data_lines(tmp_path / "o.vcf") if "SpliceBERT=" in line]
    kl = [float(line.split("SpliceBERT=")[1].split("|")[3]) for line in scored if "UNSUPPORTED" not in line]
    assert len(set(kl)) == len(kl) and max(kl) > -1381.5  # real, varied scores above the floor


def test_corrupted_vcf_line_names_file_and_line(tmp_path, tiny_510, capsys):
    bad = tmp_path / "bad.vcf"
    lines = VCF.read_text().splitlines()
    lines[-3] = lines[-3].replace("\t", " ")
    bad.write_text("\n".join(lines) + "\n")
    err = cli_error(["score", "-I", str(bad), "-R", str(FASTA), "-A", str(GENES), "-m", str(tiny_510),
                  "-O", str(tmp_path / "o.vcf"), "-q"], capsys)
    assert "bad.vcf line" in err and "tab-separated" in err


def test_missing_fasta_index_is_built_beside_it_or_explained(tmp_path, tiny_510, capsys, monkeypatch):
    shutil.copy(FASTA, tmp_path / "g.fa")
    argv = ["score", "--example", "-R", str(tmp_path / "g.fa"), "-m", str(tiny_510), "-q", "-O", str(tmp_path / "o.vcf")]
    assert main(argv) == 0
    assert (tmp_path / "g.fa.fai").read_text() == (EXAMPLE / "hg19_chr19_1-560000.fa.fai").read_text()
    assert data_lines(tmp_path / "o.vcf")  # scored
    (tmp_path / "g.fa.fai").unlink()
    import splicebert_plugin.io.genome as genome_module

    monkeypatch.setattr(genome_module.os, "access", lambda path, mode: False)  # a folder we cannot write
    err = cli_error(argv[:-1] + [str(tmp_path / "o2.vcf")], capsys)
    assert "g.fa.fai" in err and "samtools faidx" in err
    assert not (tmp_path / "g.fa.fai").exists()


def test_plain_gzip_fasta_is_explained(tmp_path, tiny_510, capsys):
    with open(FASTA, "rb") as src, gzip.open(tmp_path / "g.fa.gz", "wb") as dst:
        dst.write(src.read())
    shutil.copy(str(FASTA) + ".fai", tmp_path / "g.fa.gz.fai")
    err = cli_error(["score", "--example", "-R", str(tmp_path / "g.fa.gz"), "-m", str(tiny_510), "-q",
                  "-O", str(tmp_path / "o.vcf")], capsys)
    assert "bgzip" in err


@pytest.mark.parametrize("flag", ["-I", "-R", "-A", "-m"])
def test_wrong_paths(flag, tmp_path, tiny_510, capsys):
    argv = ["score", "--example", "-m", str(tiny_510), "-O", str(tmp_path / "o.vcf"), "-q", flag, "/no/such/file"]
    err = cli_error(argv, capsys)
    assert "/no/such/file" in err


def test_contig_mismatch_lists_both_sides(tmp_path, tiny_510, capsys):
    vcf = tmp_path / "mouse.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n##contig=<ID=NC_000067.6>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                   "NC_000067.6\t100\t.\tA\tG\t.\t.\t.\n")
    err = cli_error(["score", "--example", "-I", str(vcf), "-m", str(tiny_510), "-O", str(tmp_path / "o.vcf"),
                  "-q"], capsys)
    assert "NC_000067.6" in err and "chr19" in err


def test_empty_vcf_gives_a_well_formed_empty_output(tmp_path, tiny_510):
    vcf = tmp_path / "empty.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    out = tmp_path / "o.vcf"
    assert main(["score", "--example", "-I", str(vcf), "-m", str(tiny_510), "-O", str(out), "-q",
                 "--table", str(tmp_path / "t.tsv")]) == 0
    text = out.read_text()
    assert "##INFO=<ID=SpliceBERT," in text and text.rstrip().splitlines()[-1].startswith("#CHROM")
    assert (tmp_path / "t.tsv").read_text().startswith("CHROM\tPOS")


def test_inputs_are_not_modified(example_run):
    """Contents and modification times of every input (VCF, FASTA, index, genes) are unchanged,
    and nothing was added next to them."""
    before = (example_run / "inputs_before.txt").read_text()
    assert repr(_digests(EXAMPLE)) == before
    assert "variants.vcf" in before and "hg19_chr19_1-560000.fa.fai" in before


@pytest.mark.slow
def test_two_processes_write_the_same_output_as_one(tmp_path, tiny_510):
    """torchrun with 2 CPU processes (what accelerate launch sets up too) splits the chunks."""
    common = ["score", "--example", "-m", str(tiny_510), "--chunk-size", "2", "-q"]
    assert main(common + ["-O", str(tmp_path / "one.vcf"), "--table", str(tmp_path / "one.tsv")]) == 0
    result = torchrun("-m", "splicebert_plugin", *common, "-O", tmp_path / "two.vcf", "--table", tmp_path / "two.tsv")
    assert "process 0 of 2 scored 3 chunk(s)" in result.stderr
    assert "process 1 of 2 scored 3 chunk(s)" in result.stderr
    assert (tmp_path / "two.vcf").read_text() == (tmp_path / "one.vcf").read_text()
    assert (tmp_path / "two.tsv").read_text() == (tmp_path / "one.tsv").read_text()
    assert not list(tmp_path.glob("*.part*"))


def test_bcf_and_stdin_inputs_give_the_same_scores(tmp_path, tiny_510, example_run, monkeypatch, capsys):
    import io
    import sys

    cyvcf2 = pytest.importorskip("cyvcf2")
    source = cyvcf2.VCF(str(VCF))
    writer = cyvcf2.Writer(str(tmp_path / "in.bcf"), source, mode="wb")
    for variant in source:
        writer.write_record(variant)
    writer.close()
    source.close()
    assert main(["score", "--example", "-I", str(tmp_path / "in.bcf"), "-m", str(tiny_510), "-q",
                 "-O", str(tmp_path / "bcf.vcf")]) == 0

    def ours(path):
        return [line.split("\t")[7].split(";")[-1] for line in data_lines(path)]

    expected = ours(example_run / "out.vcf")
    assert ours(tmp_path / "bcf.vcf") == expected
    monkeypatch.setattr(sys, "stdin", io.StringIO(VCF.read_text()))
    capsys.readouterr()
    assert main(["score", "--example", "-m", str(tiny_510), "-q", "-I", "-"]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if line and not line.startswith("#")]
    assert [line.split("\t")[7].split(";")[-1] for line in printed] == expected


def test_unknown_score_name_and_window_too_small(tmp_path, tiny_510, capsys):
    err = cli_error(["score", "--example", "-m", str(tiny_510), "--scores", "KL_CONTEXT,SPLICEAI", "-q",
                  "-O", str(tmp_path / "o.vcf")], capsys)
    assert "SPLICEAI" in err
    err = cli_error(["score", "--example", "-m", str(tiny_510), "--window", "150", "-q",
                  "-O", str(tmp_path / "o.vcf")], capsys)
    assert "context" in err


def test_summary_counts_a_record_of_unsupported_alleles_as_not_scored(tiny_510, tmp_path, capsys):
    """The symbolic <DEL> at 19:330000 lies in a gene but its only ALT cannot be scored: the
    summary line must not call it scored."""
    lines = VCF.read_text().splitlines()
    only = tmp_path / "symbolic.vcf"
    only.write_text("\n".join([line for line in lines if line.startswith("#")]
                              + [line for line in lines if "\tsymbolic\t" in line]) + "\n")
    assert main(["score", "-I", str(only), "-R", str(FASTA), "-A", str(GENES), "-m", str(tiny_510),
                 "-O", str(tmp_path / "o.vcf"), "-q"]) == 0
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert "1 records, 0 scored (0 allele x gene entries)" in summary and "UNSUPPORTED_ALLELE 1" in summary
