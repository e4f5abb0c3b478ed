"""`splicebert score` never destroys input, never leaves a file that looks complete, resumes to
the same bytes, replaces stale results, writes INFO-safe values and BGZF that htslib indexes."""

import hashlib
import shutil
import subprocess
import sys

import pytest

from splicebert_plugin.cli.main import main
from splicebert_plugin.io.outputs import OutputError, RunFiles, Target, check_output_paths
from splicebert_plugin.io.vcf import info_safe

from .conftest import FASTA, GENES, VCF, cli_error, data_lines

SCORES = "KL_CONTEXT,MAX_KL,SPLICE_SITE_KL,DELTA_P"


def digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def score_argv(model, vcf, out, *extra):
    return ["score", "-I", vcf, "-R", FASTA, "-A", GENES, "-m", model, "-O", out, "-q", *extra]


@pytest.fixture(scope="module")
def many_records(tmp_path_factory):
    """The example's records repeated (with fresh IDs) into a VCF of 48 records."""
    folder = tmp_path_factory.mktemp("many")
    header = [line for line in VCF.read_text().splitlines() if line.startswith("#")]
    records = data_lines(VCF)
    lines = []
    for copy in range(4):
        for record in records:
            fields = record.split("\t")
            fields[2] = f"{fields[2]}_{copy}"
            lines.append("\t".join(fields))
    path = folder / "many.vcf"
    path.write_text("\n".join(header + lines) + "\n")
    return path


@pytest.fixture(scope="module")
def uninterrupted(tiny_510, many_records, tmp_path_factory):
    """Reference outputs of one uninterrupted run: VCF.gz, TSV and Parquet."""
    out = tmp_path_factory.mktemp("straight")
    for table in ("t.tsv", "t.parquet"):
        argv = score_argv(tiny_510, many_records, out / "o.vcf.gz", "--table", out / table, "--scores", SCORES,
                          "--chunk-size", "5")
        (out / "o.vcf.gz").unlink(missing_ok=True)
        assert main([str(a) for a in argv]) == 0
    return out


# ---------------------------------------------------------------------------- paths


def test_output_that_is_an_input_is_refused_under_any_spelling(tmp_path, tiny_510, capsys, monkeypatch):
    vcf = tmp_path / "in.vcf"
    shutil.copyfile(VCF, vcf)
    before = digest(vcf)
    link = tmp_path / "link.vcf"
    link.symlink_to(vcf)
    monkeypatch.chdir(tmp_path)
    for spelling in ("in.vcf", "./in.vcf", str(vcf), f"{tmp_path}/sub/../in.vcf", "link.vcf"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        line = cli_error(score_argv(tiny_510, vcf, spelling), capsys)
        assert "would destroy the input" in line and "-I" in line, spelling
    line = cli_error(score_argv(tiny_510, VCF, tmp_path / "o.vcf", "--table", GENES), capsys)
    assert "--table" in line and "-A" in line
    line = cli_error(score_argv(tiny_510, VCF, f"{FASTA}.fai"), capsys)
    assert "genome index" in line
    line = cli_error(score_argv(tiny_510, VCF, tmp_path / "o.tsv", "--table", tmp_path / "o.tsv"), capsys)
    assert "same file" in line
    assert digest(vcf) == before
    assert not list(tmp_path.glob("*.partial*"))


def test_output_folder_problems(tmp_path, tiny_510, capsys):
    assert "is a folder" in cli_error(score_argv(tiny_510, VCF, tmp_path), capsys)
    assert "does not exist" in cli_error(score_argv(tiny_510, VCF, tmp_path / "no/such/o.vcf"), capsys)
    with pytest.raises(OutputError, match="is the input"):
        check_output_paths({"-O": str(VCF)}, {"-I": str(VCF)})
    check_output_paths({"-O": "-", "--table": None}, {"-I": "-"})  # streams are never files


def test_output_in_a_folder_that_cannot_be_written(tmp_path, tiny_510, capsys, monkeypatch):
    import splicebert_plugin.io.outputs as outputs

    def refuse(path, mode="r", *args, **kwargs):
        if "w" in mode or "+" in mode:
            raise PermissionError(13, "Permission denied", str(path))
        return open(path, mode, *args, **kwargs)

    monkeypatch.setattr(outputs, "open", refuse, raising=False)
    line = cli_error(score_argv(tiny_510, VCF, tmp_path / "o.vcf"), capsys)
    assert "permission denied" in line and "o.vcf" in line
    assert not (tmp_path / "o.vcf").exists()


# ---------------------------------------------------------------------------- partial output and resume


def _fail_on_chunk(monkeypatch, number: int, error: BaseException):
    """Make the scorer raise ``error`` when it reaches its ``number``-th chunk (1-based)."""
    from splicebert_plugin.scoring import passes as scoring

    original = scoring.VariantScorer.score_chunk
    calls = {"n": 0}

    def failing(self, records):
        calls["n"] += 1
        if calls["n"] == number:
            raise error
        return original(self, records)

    monkeypatch.setattr(scoring.VariantScorer, "score_chunk", failing)


@pytest.mark.parametrize("stop", ["interrupt", "disk-full"])
def test_stopped_run_leaves_nothing_at_the_output_and_resumes_to_the_same_bytes(
        stop, tiny_510, many_records, uninterrupted, tmp_path, capsys, monkeypatch):
    out, table = tmp_path / "o.vcf.gz", tmp_path / "t.parquet"
    argv = [str(a) for a in score_argv(tiny_510, many_records, out, "--table", table, "--scores", SCORES,
                                       "--chunk-size", "5")]
    error = KeyboardInterrupt() if stop == "interrupt" else OSError(28, "No space left on device", str(out))
    _fail_on_chunk(monkeypatch, 4, error)
    line = cli_error(argv, capsys)
    assert ("interrupted" if stop == "interrupt" else "No space left on device") in line
    assert "partial output (15 records) kept in" in line and "--resume" in line
    assert not out.exists() and not table.exists()  # nothing that looks complete
    assert (tmp_path / "o.vcf.gz.partial").exists()
    monkeypatch.undo()
    assert "--resume to continue it" in cli_error(argv, capsys)  # a plain rerun does not clobber it
    assert main(argv + ["--resume"]) == 0
    assert digest(out) == digest(uninterrupted / "o.vcf.gz")
    assert digest(table) == digest(uninterrupted / "t.parquet")
    assert not list(tmp_path.glob("*.partial*"))


def test_killed_run_with_torn_files_resumes_to_the_same_bytes(tiny_510, many_records, uninterrupted, tmp_path,
                                                             capsys, monkeypatch):
    """A kill -9 can leave half a chunk written after the last progress record: --resume drops it."""
    out, table = tmp_path / "o.vcf.gz", tmp_path / "t.tsv"
    argv = [str(a) for a in score_argv(tiny_510, many_records, out, "--table", table, "--scores", SCORES,
                                       "--chunk-size", "5")]
    _fail_on_chunk(monkeypatch, 3, KeyboardInterrupt())
    cli_error(argv, capsys)
    monkeypatch.undo()
    for partial in (tmp_path / "o.vcf.gz.partial", tmp_path / "t.tsv.partial"):
        with open(partial, "a") as handle:
            handle.write("19\t5000\ttorn-half-line")
    with open(tmp_path / "o.vcf.gz.partial.progress", "a") as handle:
        handle.write("15\t99")  # a torn progress record (no newline)
    assert main(argv + ["--resume"]) == 0
    assert digest(out) == digest(uninterrupted / "o.vcf.gz")
    assert digest(table) == digest(uninterrupted / "t.tsv")


def test_resume_errors(tiny_510, many_records, tmp_path, capsys, monkeypatch):
    out = tmp_path / "o.vcf"
    argv = [str(a) for a in score_argv(tiny_510, many_records, out, "--chunk-size", "5")]
    assert "nothing to resume" in cli_error(argv + ["--resume"], capsys)
    _fail_on_chunk(monkeypatch, 2, KeyboardInterrupt())
    cli_error(argv, capsys)
    monkeypatch.undo()
    line = cli_error(argv + ["--resume", "--scores", "KL_CONTEXT"], capsys)
    assert "differs from the interrupted run" in line and "scores" in line
    assert "standard output, a device or a FIFO cannot be resumed" in cli_error(
        [str(a) for a in score_argv(tiny_510, many_records, "-", "--resume", "--table", tmp_path / "t.tsv")], capsys)


def test_run_files_unit(tmp_path):
    """RunFiles by hand: progress records, truncation on resume, final formats."""
    target = Target(tmp_path / "a.txt", "HEADER\n")
    files = RunFiles([target])
    files.append(["one\n"], records=1)
    files.append(["two\n"], records=2)
    files.close()
    assert (tmp_path / "a.txt.partial.progress").read_text().splitlines() == ["0\t7", "1\t11", "3\t15"]
    with open(tmp_path / "a.txt.partial", "a") as handle:
        handle.write("garbage")
    again = RunFiles([target], resume=True)
    assert again.done == 3
    again.append(["three\n"], records=1)
    again.commit()
    assert (tmp_path / "a.txt").read_text() == "HEADER\none\ntwo\nthree\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


# ---------------------------------------------------------------------------- stale results, INFO safety


def test_rescoring_replaces_every_earlier_result(tiny_510, tmp_path):
    """A VCF scored before (and hand-edited so that records switch between scored and not)
    keeps no stale SpliceBERT key or header line."""
    first = tmp_path / "first.vcf"
    assert main([str(a) for a in score_argv(tiny_510, VCF, first)]) == 0
    lines = first.read_text().splitlines()
    for i, line in enumerate(lines):
        if "\twrong_ref\t" in line:  # will get a reason: give it a stale score entry
            lines[i] = line.replace("SpliceBERT_REASON=REF_MISMATCH", "SpliceBERT=X|STALE|+|1|1|1|.")
        if "\tdonor_MADCAM1_ex1\t" in line:  # will be scored: give it a stale reason too
            lines[i] = line.replace(";SpliceBERT=", ";SpliceBERT_REASON=STALE;SpliceBERT=")
    edited = tmp_path / "edited.vcf"
    edited.write_text("\n".join(lines) + "\n")
    second = tmp_path / "second.vcf"
    assert main([str(a) for a in score_argv(tiny_510, edited, second, "--scores", "KL_CONTEXT")]) == 0
    text = second.read_text()
    assert "STALE" not in text
    header = [line for line in text.splitlines() if line.startswith("##")]
    assert sum(line.startswith("##INFO=<ID=SpliceBERT,") for line in header) == 1
    assert sum(line.startswith("##INFO=<ID=SpliceBERT_REASON,") for line in header) == 1
    assert sum(line.startswith("##SpliceBERT_model=") for line in header) == 1
    for record in data_lines(second):
        info = record.split("\t")[7]
        keys = [item.split("=")[0] for item in info.split(";")]
        assert keys.count("SpliceBERT") + keys.count("SpliceBERT_REASON") == 1, record
    assert "Format: ALLELE|SYMBOL|STRAND|KL_CONTEXT|NOTE" in text


def test_info_safe_by_hand():
    assert info_safe("A;B=C,D E|F%G\tH") == "A%3BB%3DC%2CD%20E%7CF%25G%09H"
    assert info_safe("MADCAM1") == "MADCAM1"


def test_gene_names_are_written_info_safe(tiny_510, tmp_path):
    cyvcf2 = pytest.importorskip("cyvcf2")
    from urllib.parse import unquote

    weird = "MAD;CAM=1, x|y%"
    genes = tmp_path / "genes.tsv"
    genes.write_text(GENES.read_text().replace("MADCAM1", weird))
    out = tmp_path / "o.vcf"
    argv = ["score", "-I", VCF, "-R", FASTA, "-A", genes, "-m", tiny_510, "-O", out, "-q"]
    assert main([str(a) for a in argv]) == 0
    records = {r.ID: r for r in cyvcf2.VCF(str(out))}
    assert len(records) == 12
    entry = records["donor_MADCAM1_ex1"].INFO["SpliceBERT"]
    assert unquote(entry.split("|")[1]) == weird
    assert "percent-encoded" in open(out).read()


# ---------------------------------------------------------------------------- BGZF


def test_vcf_gz_output_is_bgzf_that_htslib_indexes_and_queries(tiny_510, tmp_path):
    """A sorted VCF of 800 SNVs (output of several 64 kB BGZF blocks): htslib builds a tabix index
    of our .vcf.gz and a region query returns exactly the records of that region."""
    pysam = pytest.importorskip("pysam")
    import random

    from .conftest import read_fasta_text

    genome = read_fasta_text(FASTA)
    random.seed(0)
    positions = sorted(random.sample(range(290_000, 550_000), 800))
    header = [line for line in VCF.read_text().splitlines() if line.startswith("#")]
    filler = "X" * 300  # long INFO so that the output spans several BGZF blocks
    records = [f"19\t{p}\tv{i}\t{genome[p - 1]}\t{'A' if genome[p - 1] != 'A' else 'G'}\t.\t.\tDP={i};T={filler}"
               for i, p in enumerate(positions)]
    vcf = tmp_path / "sorted.vcf"
    vcf.write_text("\n".join(header + records) + "\n")
    out = tmp_path / "o.vcf.gz"
    assert main([str(a) for a in score_argv(tiny_510, vcf, out, "--batch-size", "64")]) == 0
    data, blocks, offset = out.read_bytes(), 0, 0
    while offset < len(data):  # walk the BGZF blocks: each gzip member states its own size (BSIZE)
        assert data[offset : offset + 4] == b"\x1f\x8b\x08\x04" and data[offset + 12 : offset + 14] == b"BC"
        offset += int.from_bytes(data[offset + 16 : offset + 18], "little") + 1
        blocks += 1
    assert offset == len(data) and blocks >= 5  # several data blocks and the empty EOF block
    pysam.tabix_index(str(out), preset="vcf", force=True)
    written = data_lines(out)
    lo, hi = positions[100], positions[700]
    with pysam.TabixFile(str(out)) as tabix:
        fetched = list(tabix.fetch("19", lo - 1, hi))
    assert fetched == [r for r in written if lo <= int(r.split("\t")[1]) <= hi] and len(fetched) == 601


# ---------------------------------------------------------------------------- streams and signals


class _ClosedPipe:
    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self):
        raise OSError("no file")


def test_closed_pipe_ends_quietly(tiny_510, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    assert main([str(a) for a in score_argv(tiny_510, VCF, "-")]) == 141
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_pipe_into_head_and_dev_full_in_a_real_process(tiny_510, tmp_path):
    command = [sys.executable, "-m", "splicebert_plugin", *[str(a) for a in score_argv(tiny_510, VCF, "-")]]
    head = subprocess.run(" ".join(f"'{c}'" for c in command) + " | head -3", shell=True, capture_output=True,
                          text=True, executable="/bin/bash")
    assert head.stdout.count("\n") == 3 and "Traceback" not in head.stderr and "error" not in head.stderr
    with open("/dev/full", "w") as full:
        result = subprocess.run(command, stdout=full, stderr=subprocess.PIPE, text=True)
    assert result.returncode == 2 and "No space left on device" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_sigterm_keeps_a_resumable_partial_output(original_510, many_records, tmp_path):
    """SIGTERM (as a batch system sends) mid-run: one line, exit 2, a partial output to resume.
    The full-size model keeps the run busy long enough to be stopped part-way."""
    import signal
    import time

    out = tmp_path / "o.vcf"
    command = [sys.executable, "-m", "splicebert_plugin",
               *[str(a) for a in score_argv(original_510, many_records, out, "--chunk-size", "1")]]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    progress = tmp_path / "o.vcf.partial.progress"
    deadline = time.time() + 120
    while time.time() < deadline and not (progress.exists() and len(progress.read_text().splitlines()) >= 3):
        time.sleep(0.05)
    # frozen first: the run cannot race to its end between the check above and the signal; SIGTERM
    # is then handled as soon as it runs again (at most the chunk under way is finished)
    process.send_signal(signal.SIGSTOP)
    frozen_at = int(progress.read_text().splitlines()[-1].split("\t")[0])
    process.send_signal(signal.SIGTERM)
    process.send_signal(signal.SIGCONT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2, err
    assert "interrupted" in err and "--resume" in err and "Traceback" not in err
    assert not out.exists() and (tmp_path / "o.vcf.partial").exists()
    assert process.poll() is not None
    done = int(progress.read_text().splitlines()[-1].split("\t")[0])
    assert 2 <= frozen_at <= done <= frozen_at + 1 < 48
    assert main([str(a) for a in score_argv(original_510, many_records, out, "--chunk-size", "1", "--resume")]) == 0
    assert len(data_lines(out)) == 48


def test_write_text_atomic_never_leaves_a_truncated_file(tmp_path, monkeypatch):
    from splicebert_plugin.io import outputs

    target = tmp_path / "summary.json"
    outputs.write_text_atomic(target, "old\n")
    assert target.read_text() == "old\n" and not list(tmp_path.glob("*.partial"))

    def killed(source, destination):  # the run dies between the write and the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        outputs.write_text_atomic(target, "new content\n")
    assert target.read_text() == "old\n"  # the old file is whole; the new text waits in .partial
    monkeypatch.undo()
    outputs.write_text_atomic(target, "new content\n")
    assert target.read_text() == "new content\n" and not list(tmp_path.glob("*.partial"))


# ---------------------------------------------------------------------------- hostile but realistic


@pytest.fixture
def interrupted(tiny_510, many_records, tmp_path, capsys, monkeypatch):
    """An interrupted run of ``many_records`` into tmp_path/o.vcf (2 chunks of 5 written)."""
    out = tmp_path / "o.vcf"
    _fail_on_chunk(monkeypatch, 3, KeyboardInterrupt())
    cli_error([str(a) for a in score_argv(tiny_510, many_records, out, "--chunk-size", "5")], capsys)
    monkeypatch.undo()
    assert (tmp_path / "o.vcf.partial").exists() and not out.exists()
    return out


@pytest.mark.parametrize("change", ["-A", "-R", "-I same header", "-I copy"])
def test_resume_refuses_changed_inputs(change, interrupted, tiny_510, many_records, tmp_path, capsys):
    """Resuming with another annotation, genome or input (even one with the same header, or the
    same file rewritten) would splice two runs into one output: refused, naming what changed."""
    argv = [str(a) for a in score_argv(tiny_510, many_records, interrupted, "--chunk-size", "5", "--resume")]
    if change == "-A":
        other = tmp_path / "genes_copy.tsv"
        shutil.copyfile(GENES, other)
        argv[argv.index("-A") + 1] = str(other)
        expected = "annotation (-A)"
    elif change == "-R":
        other = tmp_path / "genome_copy.fa"
        shutil.copyfile(FASTA, other)
        shutil.copyfile(f"{FASTA}.fai", f"{other}.fai")
        argv[argv.index("-R") + 1] = str(other)
        expected = "genome (-R)"
    elif change == "-I same header":
        other = tmp_path / "other.vcf"
        lines = many_records.read_text().splitlines()
        other.write_text("\n".join(line for line in lines if line.startswith("#") or "_3" in line.split("\t")[2]) + "\n")
        argv[argv.index("-I") + 1] = str(other)
        expected = "input (-I)"
    else:
        copy = tmp_path / "many.vcf"
        shutil.copyfile(many_records, copy)
        argv[argv.index("-I") + 1] = str(copy)
        expected = "input (-I)"
    line = cli_error(argv, capsys)
    assert "cannot resume" in line and expected in line
    assert (tmp_path / "o.vcf.partial").exists() and not interrupted.exists()  # the partial output is kept


def test_resume_with_the_same_command_still_works(interrupted, tiny_510, many_records, uninterrupted):
    assert main([str(a) for a in score_argv(tiny_510, many_records, interrupted, "--chunk-size", "5", "--resume")]) == 0
    assert len(data_lines(interrupted)) == 48


@pytest.mark.parametrize("names", [("t.tsv.partial", "t.tsv"), ("t.tsv.partial.progress", "t.tsv"),
                                   ("t.tsv.partial.lock", "t.tsv"), ("t.tsv.partial.run", "t.tsv")])
def test_an_output_that_is_another_outputs_working_file_is_refused(names, tiny_510, tmp_path, capsys):
    vcf, table = (tmp_path / n for n in names)
    for path in (vcf, table):
        path.write_text("keep me\n")
    line = cli_error([str(a) for a in score_argv(tiny_510, VCF, vcf, "--table", table)], capsys)
    assert "working file" in line
    assert vcf.read_text() == table.read_text() == "keep me\n"


def test_device_outputs_are_written_in_place(tiny_510, tmp_path, capsys):
    import os
    import stat

    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    before = os.stat("/dev/null")
    assert main([str(a) for a in score_argv(tiny_510, VCF, "/dev/null", "--table", "/dev/null")]) == 0
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino  # still the device, not a file
    assert not os.path.exists("/dev/null.partial")
    assert "cannot be resumed" in cli_error([str(a) for a in score_argv(tiny_510, VCF, "/dev/null", "--resume")], capsys)
    fifo = tmp_path / "t.parquet"
    os.mkfifo(fifo)
    line = cli_error([str(a) for a in score_argv(tiny_510, VCF, tmp_path / "o.vcf", "--table", fifo)], capsys)
    assert "plain tab-separated table only" in line


def test_fifo_and_dev_full_outputs(tiny_510, tmp_path):
    import os
    import threading

    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(open(fifo).read()))
    reader.start()
    assert main([str(a) for a in score_argv(tiny_510, VCF, fifo)]) == 0
    reader.join(timeout=60)
    assert fifo.is_fifo() and received and received[0].startswith("##fileformat=VCF")
    reference = tmp_path / "file.vcf"
    assert main([str(a) for a in score_argv(tiny_510, VCF, reference)]) == 0
    assert received[0] == reference.read_text()
    if os.path.exists("/dev/full"):
        result = subprocess.run([sys.executable, "-m", "splicebert_plugin",
                                 *[str(a) for a in score_argv(tiny_510, VCF, "/dev/full")]],
                                capture_output=True, text=True)
        assert result.returncode == 2 and "No space left on device" in result.stderr, result.stderr
        assert os.path.exists("/dev/full") and not os.path.isfile("/dev/full")


def test_dev_stdout_is_standard_output(tiny_510, tmp_path):
    out = tmp_path / "captured.vcf"
    with open(out, "w") as handle:
        result = subprocess.run([sys.executable, "-m", "splicebert_plugin",
                                 *[str(a) for a in score_argv(tiny_510, VCF, "/dev/stdout")]],
                                stdout=handle, stderr=subprocess.PIPE, text=True)
    assert result.returncode == 0, result.stderr
    reference = tmp_path / "file.vcf"
    assert main([str(a) for a in score_argv(tiny_510, VCF, reference)]) == 0
    assert out.read_text() == reference.read_text()


def test_bcf_output_is_refused_before_any_work(tiny_510, tmp_path, capsys):
    line = cli_error([str(a) for a in score_argv(tiny_510, VCF, tmp_path / "o.bcf")], capsys)
    assert "BCF output is not written" in line and not (tmp_path / "o.bcf").exists()
    assert not (tmp_path / "o.bcf.partial").exists()


def test_a_second_run_on_the_same_output_is_told_a_run_is_active(tiny_510, tmp_path, capsys):
    out = tmp_path / "o.vcf"
    active = RunFiles([Target(out, "HEADER\n")])  # holds the lock, as a running job does
    try:
        line = cli_error([str(a) for a in score_argv(tiny_510, VCF, out)], capsys)
        assert "another run is writing" in line and "interrupted" not in line
        line = cli_error([str(a) for a in score_argv(tiny_510, VCF, out, "--resume")], capsys)
        assert "another run is writing" in line
    finally:
        active.close()
    # the holder went away (its lock file is gone): the leftovers are now an interrupted run
    assert "pass --resume" in cli_error([str(a) for a in score_argv(tiny_510, VCF, out)], capsys)


def test_a_stale_lock_file_of_a_killed_run_is_taken_over(tmp_path):
    target = Target(tmp_path / "a.txt", "H\n")
    (tmp_path / "a.txt.partial.lock").write_text("12345")  # no process holds it
    files = RunFiles([target])
    files.append(["x\n"], records=1)
    files.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
