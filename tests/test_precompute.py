"""Precomputed scores: rows equal those of `score --table`, lookups give byte-identical outputs
(and really come from the file), mismatched files refused, shards merge to the bytes of one
run, an interrupted run resumes, two processes equal one."""

import gzip
import shutil

import pytest

from splicebert_plugin.cli.main import main
from splicebert_plugin.scoring.precompute import merge_intervals, positions, shard_bounds

from .conftest import FASTA, GENES, cli_error, read_fasta_text, run_two_processes

# around OR4F17's first donor (+), around a PLPP2 exon end (-), an intergenic stretch, and Ns
REGIONS = [("chr19", 107540, 107570), ("chr19", 281525, 281550), ("chr19", 200000, 200010), ("chr19", 50000, 50003)]


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    path = tmp_path_factory.mktemp("bed") / "regions.bed"
    path.write_text("".join(f"{c}\t{s}\t{e}\n" for c, s, e in REGIONS))
    return path


def _precompute(model, bed, out, *extra):
    assert main(["precompute", "-q", "-R", str(FASTA), "-A", str(GENES), "--bed", str(bed), "-m", str(model),
                 "-O", str(out), *[str(e) for e in extra]]) == 0
    return out


@pytest.fixture(scope="module")
def precomputed(tmp_path_factory, bed, tiny_510):
    return _precompute(tiny_510, bed, tmp_path_factory.mktemp("pre") / "snvs.tsv.gz")


def _lines(path):
    with gzip.open(path, "rt") as handle:
        return handle.read().splitlines()


def _vcf(path, records):
    path.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                    + "".join(f"19\t{pos}\t{vid}\t{ref}\t{alt}\t.\t.\t.\n" for pos, vid, ref, alt in records))
    return path


def _score(model, vcf, out, table, *extra):
    assert main(["score", "-q", "-I", str(vcf), "-O", str(out), "--table", str(table), "-R", str(FASTA),
                 "-A", str(GENES), "-m", str(model), *[str(e) for e in extra]]) == 0
    return out.read_bytes(), table.read_bytes()


def test_positions_and_shards_by_hand():
    regions = merge_intervals([("b", 5, 8), ("a", 10, 12), ("a", 0, 3), ("a", 2, 4)], ["a", "b"])
    assert regions == [("a", 0, 4), ("a", 10, 12), ("b", 5, 8)]
    every = list(positions(regions))
    assert every == [("a", 0), ("a", 1), ("a", 2), ("a", 3), ("a", 10), ("a", 11), ("b", 5), ("b", 6), ("b", 7)]
    parts = [shard_bounds(9, k, 4) for k in range(1, 5)]
    assert parts == [(0, 2), (2, 4), (4, 6), (6, 9)]
    assert [p for first, last in parts for p in positions(regions, first, last)] == every


def test_every_snv_of_the_regions_with_the_rows_score_writes(tmp_path, precomputed, tiny_510):
    lines = _lines(precomputed)
    header = [line for line in lines if line.startswith("##")]
    assert header[0] == "##splicebert-precompute/1"
    assert {"##window=510", "##mode=variant", "##context=100", "##precision=fp32",
            "##scores=KL_CONTEXT,MAX_KL,SPLICE_SITE_KL"} <= set(header)
    columns = lines[len(header)].split("\t")
    assert columns[:6] == ["#CHROM", "POS", "REF", "ALT", "GENE", "STRAND"]
    rows = [line.split("\t") for line in lines[len(header) + 1 :]]
    genome = read_fasta_text(FASTA)
    assert genome[50000:50003] == "NNN"  # no SNV there: no row
    expected = [(p + 1, genome[p], alt) for _, s, e in sorted(REGIONS, key=lambda r: r[1]) for p in range(s, e)
                for alt in "ACGT" if genome[p] != "N" and alt != genome[p]]
    assert [(int(r[1]), r[2], r[3]) for r in rows] == expected  # genome order, one gene per position here
    # the same SNVs scored by `score --table` (a VCF of them all): identical values and fields
    vcf = _vcf(tmp_path / "all.vcf", [(pos, ".", ref, alt) for pos, ref, alt in expected])
    _score(tiny_510, vcf, tmp_path / "o.vcf", tmp_path / "t.tsv")
    table = [line.split("\t") for line in (tmp_path / "t.tsv").read_text().splitlines()[1:]]
    assert len(table) == len(rows)
    for ours, theirs in zip(rows, table):  # table: CHROM POS ID REF ALT GENE STRAND scores NOTE WINDOW_START ...
        assert ours[1:6] == [theirs[1], *theirs[3:7]]
        assert ["" if v == "nan" else v for v in ours[6:9]] == theirs[7:10]  # the same float64, every digit
        assert ours[9:] == theirs[10:]
    intergenic = [r for r in rows if 200000 < int(r[1]) <= 200010]
    assert intergenic and all(r[4] == "" and r[9] == "NO_OVERLAPPING_GENE" for r in intergenic)


def test_score_with_precomputed_is_byte_identical_and_copies_the_file(tmp_path, precomputed, tiny_510):
    genome = read_fasta_text(FASTA)
    ref = {p: genome[p - 1] for p in (107551, 107556, 281530, 281540, 200005, 300000)}
    other = {b: next(a for a in "ACGT" if a != b) for b in "ACGT"}
    records = [
        (107551, "in", ref[107551], other[ref[107551]]),
        (107556, "multi", ref[107556], ",".join(a for a in "ACGT" if a != ref[107556])),
        (281530, "minus", ref[281530], other[ref[281530]]),
        (281540, "indel", ref[281540], ref[281540] + "A"),  # not an SNV: computed
        (281540, "mismatch", other[ref[281540]], ref[281540]),  # REF_MISMATCH: computed
        (200005, "intergenic", ref[200005], other[ref[200005]]),  # a record-level reason: computed
        (300000, "outside", ref[300000], other[ref[300000]]),  # not in the regions: computed
    ]
    vcf = _vcf(tmp_path / "in.vcf", records)
    computed = _score(tiny_510, vcf, tmp_path / "a.vcf", tmp_path / "a.tsv")
    looked_up = _score(tiny_510, vcf, tmp_path / "b.vcf", tmp_path / "b.tsv", "--precomputed", precomputed)
    assert looked_up == computed
    # the values really come from the file: change one in a copy, and the output shows it
    lines = _lines(precomputed)
    target = next(i for i, line in enumerate(lines) if line.startswith(f"chr19\t107551\t{ref[107551]}\t"
                                                                     f"{other[ref[107551]]}\t"))
    fields = lines[target].split("\t")
    fields[6] = "-123.25"
    lines[target] = "\t".join(fields)
    tampered = tmp_path / "tampered.tsv"
    tampered.write_text("\n".join(lines) + "\n")
    from splicebert_plugin.io.tabix import compress, index

    compress(tampered, tmp_path / "tampered.tsv.gz")
    index(tmp_path / "tampered.tsv.gz")
    out, _ = _score(tiny_510, vcf, tmp_path / "c.vcf", tmp_path / "c.tsv", "--precomputed", tmp_path / "tampered.tsv.gz")
    changed = [line for line in out.decode().splitlines() if "\tin\t" in line]
    assert "|-123.25|" in changed[0]
    assert out.decode().replace("|-123.25|", "") != computed[0].decode()


def test_mismatched_or_unusable_files_are_refused(tmp_path, bed, precomputed, tiny_510, capsys):
    vcf = _vcf(tmp_path / "in.vcf", [(107551, ".", read_fasta_text(FASTA)[107550], "A")])

    def refused(*extra):
        return cli_error(["score", "-q", "-I", vcf, "-O", tmp_path / "o.vcf", "-R", FASTA, "-A", GENES,
                          "-m", tiny_510, *extra], capsys)

    assert "window: 400 here, 510 in the file" in refused("--precomputed", precomputed, "--window", "400")
    assert "precision: 'int8' here, 'fp32' in the file" in refused("--precomputed", precomputed, "--precision",
                                                                   "int8")
    assert "scores:" in refused("--precomputed", precomputed, "--scores", "KL_CONTEXT")
    assert "weights:" in refused("--precomputed", precomputed, "-m", "demo")
    # the same weights under another path: accepted (the label is for people, the weights decide)
    moved = tmp_path / "same_weights"
    shutil.copytree(tiny_510, moved)
    assert main(["score", "-q", "-I", str(vcf), "-O", str(tmp_path / "moved.vcf"), "-R", str(FASTA), "-A", str(GENES),
                 "-m", str(moved), "--precomputed", str(precomputed)]) == 0
    bare = tmp_path / "bare.tsv.gz"
    shutil.copy(precomputed, bare)
    assert "has no tabix index" in refused("--precomputed", bare)
    assert "does not exist" in refused("--precomputed", tmp_path / "none.tsv.gz")
    assert "not a splicebert precompute file" in refused("--precomputed", _bgzipped_table(tmp_path))


def _bgzipped_table(tmp_path):
    from splicebert_plugin.io.tabix import compress, index

    plain = tmp_path / "other.tsv"
    plain.write_text("#CHROM\tPOS\tX\nchr19\t5\ta\n")
    compress(plain, tmp_path / "other.tsv.gz")
    index(tmp_path / "other.tsv.gz")
    return tmp_path / "other.tsv.gz"


def test_shards_merge_to_the_bytes_of_one_run(tmp_path, bed, precomputed, tiny_510, capsys):
    shards = [_precompute(tiny_510, bed, tmp_path / f"s{k}.tsv.gz", "--shard", f"{k}/3") for k in (3, 1, 2)]
    assert all("##shard=" in "\n".join(_lines(s)) for s in shards)
    assert main(["precompute-merge", *map(str, shards), "-O", str(tmp_path / "merged.tsv.gz")]) == 0
    assert (tmp_path / "merged.tsv.gz").read_bytes() == precomputed.read_bytes()
    assert (tmp_path / "merged.tsv.gz.tbi").is_file()
    assert "missing" in cli_error(["precompute-merge", shards[0], shards[1], "-O", tmp_path / "m2.tsv.gz"], capsys)
    assert "given twice" in cli_error(["precompute-merge", shards[0], shards[0], shards[1], "-O",
                                       tmp_path / "m3.tsv.gz"], capsys)
    assert "not a shard" in cli_error(["precompute-merge", precomputed, "-O", tmp_path / "m4.tsv.gz"], capsys)
    assert "merge the shards first" in cli_error(["score", "--example", "-q", "-O", tmp_path / "x.vcf", "-m",
                                                  tiny_510, "--precomputed", shards[0]], capsys)
    for bad, message in (("0/3", "1 <= K <= N"), ("4/3", "1 <= K <= N"), ("x", "expected K/N")):
        assert message in cli_error(["precompute", "-R", FASTA, "-A", GENES, "--bed", bed, "-m", tiny_510,
                                     "-O", tmp_path / "z.tsv.gz", "--shard", bad], capsys)
    assert "name it .tsv.gz" in cli_error(["precompute", "-R", FASTA, "-A", GENES, "--bed", bed, "-m", tiny_510,
                                           "-O", tmp_path / "z.tsv"], capsys)


def test_an_interrupted_run_resumes_to_the_same_bytes(tmp_path, bed, precomputed, tiny_510, monkeypatch, capsys):
    from splicebert_plugin.scoring import passes

    calls = {"n": 0}
    real = passes.VariantScorer.score_chunk

    def flaky(self, records):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(self, records)

    monkeypatch.setattr(passes.VariantScorer, "score_chunk", flaky)
    out = tmp_path / "r.tsv.gz"
    args = ["precompute", "-q", "-R", str(FASTA), "-A", str(GENES), "--bed", str(bed), "-m", str(tiny_510),
            "-O", str(out)]
    assert main(args) == 2
    assert not out.exists() and (tmp_path / "r.tsv.gz.partial").exists()
    monkeypatch.setattr(passes.VariantScorer, "score_chunk", real)
    # refused before any model is looked at (this one does not exist)
    no_model = [a if a != str(tiny_510) else str(tmp_path / "no_model") for a in args]
    assert "left from an interrupted run" in cli_error(no_model, capsys)
    assert "nothing to resume" in cli_error([*no_model[:-1], str(tmp_path / "other.tsv.gz"), "--resume"], capsys)
    assert "cannot resume" in cli_error([*args, "--resume", "--window", "400"], capsys)  # other settings: refused
    assert main([*args, "--resume"]) == 0
    assert out.read_bytes() == precomputed.read_bytes()


def test_exons_with_flanks_by_default(tmp_path, tiny_510):
    genes = tmp_path / "one_gene.tsv"  # a made-up gene of two short exons, [107460, 107480) and [107650, 107700)
    genes.write_text(open(GENES).readline() + "TWO\t19\t+\t107460\t107700\t107460,107650,\t107480,107700,\n")
    out = tmp_path / "exons.tsv.gz"
    assert main(["precompute", "-q", "-R", str(FASTA), "-A", str(genes), "--flank", "5", "-m", str(tiny_510),
                 "-O", str(out)]) == 0
    expected = {p + 1 for s, e in ((107455, 107485), (107645, 107705)) for p in range(s, e)}
    rows = [line.split("\t") for line in _lines(out) if not line.startswith("#")]
    assert {int(r[1]) for r in rows} == expected and len(rows) == 3 * len(expected)
    # the flanks past the transcript's ends overlap no gene: rows with that reason
    assert all((r[4], r[9]) == (("TWO", "") if 107460 < int(r[1]) <= 107700 else ("", "NO_OVERLAPPING_GENE"))
               for r in rows)


@pytest.mark.slow
def test_two_processes_write_the_bytes_of_one(tmp_path, bed, precomputed, tiny_510):
    script = "import sys\nfrom splicebert_plugin.cli.main import main\nraise SystemExit(main(sys.argv[1:]))\n"
    out = tmp_path / "pair.tsv.gz"
    run_two_processes(script, tmp_path, "precompute", "-q", "-R", str(FASTA), "-A", str(GENES), "--bed", str(bed),
                      "-m", str(tiny_510), "-O", str(out))
    assert out.read_bytes() == precomputed.read_bytes()
    # the shards and their indexes are gone, no partial file is left
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("pair")) == ["pair.tsv.gz",
                                                                                       "pair.tsv.gz.tbi"]
