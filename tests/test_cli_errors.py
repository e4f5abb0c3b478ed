"""Bad invocations and bad inputs: one line, exit status 2, no traceback, and (where the input can
be checked without the model) before the model is loaded."""

import gzip

import pytest

from splicebert_plugin.cli.main import main

from .conftest import FASTA, GENES, VCF, cli_error, data_lines


@pytest.fixture()
def no_model_load(monkeypatch):
    """Fail the test if anything tries to load a model: the error must come first."""
    import splicebert_plugin.checkpoints.resolve as loading

    def refuse(spec):
        raise AssertionError(f"the model {spec!r} was loaded before the input error was found")

    monkeypatch.setattr(loading, "load_model_spec", refuse)


def score(*extra, vcf=VCF, out="-"):
    return ["score", "-I", vcf, "-R", FASTA, "-A", GENES, "-m", "demo", "-O", out, "-q", *extra]


def test_bad_inputs_are_found_before_the_model_loads(tmp_path, capsys, no_model_load):
    truncated = tmp_path / "cut.vcf.gz"
    truncated.write_bytes(gzip.compress(VCF.read_bytes())[:120])  # cut inside the header
    no_header = tmp_path / "bad.vcf"
    no_header.write_text("19\t100\t.\tA\tG\t.\t.\t.\n")
    spaces = tmp_path / "spaces.vcf"
    spaces.write_text(VCF.read_text().replace("#CHROM\tPOS\tID\tREF", "#CHROM POS ID REF"))
    cases = [
        (score(vcf=tmp_path / "missing.vcf"), "missing.vcf does not exist"),
        (score(vcf=tmp_path), "is a folder"),
        (score(vcf=no_header), "#CHROM"),
        (score(vcf=spaces), "8 tab-separated VCF columns"),
        (score(vcf=truncated), "cut.vcf.gz"),
        (["score", "-I", VCF, "-R", tmp_path / "no.fa", "-A", GENES, "-m", "demo"], "no.fa does not exist"),
        (["score", "-I", VCF, "-R", FASTA, "-A", tmp_path / "no.gtf", "-m", "demo"], "no.gtf does not exist"),
        (score(out=VCF), "would destroy the input"),
        (score("--window", "0"), "window width 0"),
        (score("--window", "-5"), "window width -5"),
        (score("--batch-size", "0"), "batch size"),
        (score("--scores", "KL_CONTEXT,SPLICEAI"), "SPLICEAI"),
        (score("--table", tmp_path / "t.xlsx"), "name it *.tsv"),
        (score("--device", "cuda"), "CUDA"),
        (score("--device", "gpu"), "not a torch device"),
        (["ism", "-R", FASTA, "--region", "chr19:300-400", "-O", tmp_path / "i.tsv", "--window", "0"], "window width 0"),
    ]
    for argv, message in cases:
        line = cli_error(argv, capsys)
        assert message in line, (argv, line)


def test_truncated_gzip_vcf_is_an_error_not_a_shorter_input(tmp_path, tiny_510, capsys):
    """Cut in the middle of the records: the header reads fine, then the run stops naming the
    file, and no output appears."""
    packed = gzip.compress(VCF.read_bytes() * 1)
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(packed[: len(packed) - 40])
    line = cli_error(["score", "-I", cut, "-R", FASTA, "-A", GENES, "-m", tiny_510, "-O", tmp_path / "o.vcf", "-q"],
                     capsys)
    assert "cut.vcf.gz" in line and "truncated" in line
    assert not (tmp_path / "o.vcf").exists()


def test_byte_order_mark_is_accepted_and_bad_bytes_are_named(tmp_path, tiny_510, capsys):
    bom = tmp_path / "bom.vcf"
    bom.write_bytes(b"\xef\xbb\xbf" + VCF.read_bytes())
    argv = ["score", "-R", FASTA, "-A", GENES, "-m", tiny_510, "-q"]
    assert main([str(a) for a in argv + ["-I", bom, "-O", tmp_path / "bom.out.vcf"]]) == 0
    assert main([str(a) for a in argv + ["-I", VCF, "-O", tmp_path / "plain.out.vcf"]]) == 0
    assert data_lines(tmp_path / "bom.out.vcf") == data_lines(tmp_path / "plain.out.vcf")
    latin = tmp_path / "latin.vcf"
    latin.write_bytes(VCF.read_bytes().replace(b"donor_MADCAM1_ex1", b"donor_MADCAM1_\xe9x1"))
    line = cli_error(argv + ["-I", latin, "-O", tmp_path / "latin.out.vcf"], capsys)
    assert "latin.vcf line" in line and "0xe9" in line and "UTF-8" in line


def test_ism_arguments(tmp_path, tiny_510, capsys):
    out = tmp_path / "ism.tsv"
    line = cli_error(["ism", "-m", tiny_510, "--region-start", "200", "-O", out], capsys)
    assert "--region-end" in line
    line = cli_error(["ism", "-m", tiny_510, "--region", "chr19:300-400", "-O", out], capsys)
    assert "-R genome.fa" in line
    # 50-100 of chr19 leaves less than the windows' flank (206 nt here) before the contig start:
    # refused, not scored on windows of N
    line = cli_error(["ism", "-m", tiny_510, "-R", FASTA, "--region", "chr19:50-100", "-O", out], capsys)
    assert "too close to an end of chr19" in line
    line = cli_error(["ism", "-m", tiny_510, "-R", FASTA, "--region", "chr19:559950-559990", "-O", out], capsys)
    assert "too close to an end" in line
    line = cli_error(["ism", "-m", tiny_510, "-R", FASTA, "--region", "chrX:1000-1100", "-O", out], capsys)
    assert "chrX" in line
    line = cli_error(["ism", "-m", tiny_510, "--sequence", "ACGT" * 200, "--region-start", "10", "--region-end",
                      "30", "-O", out], capsys)
    assert "flank" in line
    assert not out.exists()


def test_unexpected_errors_are_one_line_with_the_traceback_on_request(tmp_path, tiny_510, capsys, monkeypatch):
    from splicebert_plugin.scoring import passes as scoring

    def broken(self, records):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(scoring.VariantScorer, "score_chunk", broken)
    argv = ["score", "--example", "-m", tiny_510, "-O", "-", "-q"]
    line = cli_error(argv, capsys, status=1)
    assert "internal error" in line and "boom" in line and "-v" in line
    assert main([str(a) for a in ["-v", *argv]]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_sequence_fasta_encoding(tmp_path, tiny_510, capsys):
    """FASTA read whole (fill-mask, ism): a byte-order mark is fine, a non-UTF-8 byte is named."""
    bom = tmp_path / "bom.fa"
    bom.write_bytes(b"\xef\xbb\xbf>seq one\nACGTACGT\nACGT\n")
    assert main(["fill-mask", "-m", str(tiny_510), "--fasta", str(bom), "--positions", "0,11"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "# seq one" and [row.split("\t")[:2] for row in out[2:]] == [["0", "A"], ["11", "T"]]
    latin = tmp_path / "latin.fa"
    latin.write_bytes(b">seq\nACGT\nAC\xe9T\n")
    line = cli_error(["fill-mask", "-m", tiny_510, "--fasta", latin], capsys)
    assert "latin.fa line 3" in line and "0xe9" in line
    empty = tmp_path / "empty.fa"
    empty.write_text("ACGT\n")
    assert "is not FASTA" in cli_error(["fill-mask", "-m", tiny_510, "--fasta", empty], capsys)


def test_library_value_errors_are_bugs_not_user_errors(tmp_path, tiny_510, capsys, monkeypatch):
    """A plain ValueError (or KeyError) from inside the library is not the user's fault: exit 1,
    "internal error"; only UserError and errors on named paths are exit 2."""
    from splicebert_plugin.cli.main import is_user_error
    from splicebert_plugin.errors import UserError
    from splicebert_plugin.scoring import passes as scoring

    def broken(self, records):
        raise ValueError("an internal invariant failed")

    monkeypatch.setattr(scoring.VariantScorer, "score_chunk", broken)
    line = cli_error(["score", "--example", "-m", tiny_510, "-O", "-", "-q"], capsys, status=1)
    assert "internal error" in line and "an internal invariant failed" in line
    assert is_user_error(UserError("x")) and is_user_error(FileNotFoundError(2, "No such file", "x.vcf"))
    assert not is_user_error(ValueError("x")) and not is_user_error(KeyError("x")) and not is_user_error(OSError("x"))


def test_every_error_class_of_the_package_is_a_user_error():
    import importlib
    import inspect
    import pkgutil

    import splicebert_plugin
    from splicebert_plugin.errors import UserError

    classes = set()
    for info in pkgutil.walk_packages(splicebert_plugin.__path__, "splicebert_plugin."):
        if ".modeling_" in info.name or ".configuration_" in info.name or info.name.endswith("__main__"):
            continue  # Hub code: imports only torch and transformers
        module = importlib.import_module(info.name)
        classes |= {c for _, c in inspect.getmembers(module, inspect.isclass)
                    if issubclass(c, Exception) and c.__module__ == info.name}
    assert len(classes) > 10
    assert {c.__name__ for c in classes if not issubclass(c, UserError)} <= {"PartialRun"}


def test_messages_name_what_the_user_gave(tmp_path, tiny_510, capsys):
    import json
    import shutil

    mismatched = tmp_path / "mismatched"
    shutil.copytree(tiny_510, mismatched)
    config = json.loads((mismatched / "config.json").read_text())
    config["intermediate_size"] *= 2
    (mismatched / "config.json").write_text(json.dumps(config))
    line = cli_error(["fill-mask", "-m", mismatched, "--sequence", "ACGTACGTAC"], capsys)
    assert "do not fit" in line and "intermediate" in line and "truncated" not in line
    line = cli_error(["fill-mask", "-m", tiny_510 / "config.json", "--sequence", "ACGTACGTAC"], capsys)
    assert "is a file, not a checkpoint folder" in line
    empty = tmp_path / "empty.bedpe"
    empty.write_text("")
    line = cli_error(["attention", "-m", tiny_510, "-R", FASTA, "--pairs", empty, "-O", tmp_path / "a.tsv", "-q"], capsys)
    assert "holds no site pairs" in line
    line = cli_error(["ism", "-m", tiny_510, "--sequence", "ACGTXX", "-O", tmp_path / "i.tsv"], capsys)
    assert "--sequence 'ACGTXX'" in line and "'X'" in line
    line = cli_error(["ism", "-m", tiny_510, "--sequence", "ACGT", "-O", tmp_path / "i.tsv"], capsys)
    assert "--sequence (4 nt)" in line and "default region" in line


def test_labels_that_match_no_scored_variant_say_so(tmp_path, tiny_510, capsys):
    table = tmp_path / "scores.tsv"
    assert main(["score", "--example", "-m", str(tiny_510), "-O", str(tmp_path / "o.vcf"), "--table", str(table),
                 "-q"]) == 0
    labels = tmp_path / "labels.tsv"
    labels.write_text("ID\tLABEL\nnot_there_1\t1\nnot_there_2\t0\n")
    line = cli_error(["evaluate", "--table", table, "--labels", labels], capsys)
    assert "no labelled variant is in the score table" in line and "not_there_1" in line
