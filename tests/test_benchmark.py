"""`splicebert benchmark vexseq`: tables in the real layout (column names and order of the MMSplice
paper's copies) built on the example genome, served from a local mirror; labels and exclusions by
hand, AP/AUROC against scikit-learn on the written scores, genome windows, local copies, errors."""

import csv
import json

import numpy as np
import pytest

from splicebert_plugin.analysis.variant_benchmarks import (DUPLICATE, NO_LABEL, NOT_SNV, SEQUENCE_MISMATCH,
                                                           SPLICE_DINUCLEOTIDE, read_vexseq)
from splicebert_plugin.cli.main import main
from splicebert_plugin.sources.benchmark_data import DATASETS

from .conftest import FASTA, assert_results_match_sklearn, cli_error, read_fasta_text, revcomp

SIDED = ["", "ID", "seqnames", "start", "end", "width", "strand", "hg19_variant_position", "reference", "variant",
         "HepG2_delta_psi", "HepG2_ref_psi", "CADD_PHRED", "CADD_RAW", "PhastCons", "PhyloP", "side", "REF_SEQ",
         "ALT_SEQ"]
TEST_PRED = ["", "ID", "chromosome", "hg19_variant_position", "reference", "variant", "exon_start", "exon_end",
             "HepG2_delta_psi", "seqnames", "start", "end", "width", "strand", "HepG2_ref_psi", "side", "REF_SEQ",
             "ALT_SEQ", "MMSplice_Delta_PSI_Pred_Sum", "MMSplice_Delta_PSI_Pred_Sum3", "MMSplice_Delta_PSI_Pred"]
# internal exons of the example genes (0-based half-open) and their strands
EXONS = [(535836, 535923, "+"), (282133, 282310, "-"), (308576, 308665, "-"), (536242, 536340, "+"),
         (371204, 371322, "-")]
OFFSETS = ["s-60", "s-30", "s-3", "s-2", "s-1", "s", "s+10", "mid", "e-5", "e", "e+1", "e+2", "e+3", "e+40", "e+90"]


def _rows(genome: str):
    """Rows (dicts) of the planted variants, the labels of the kept ones and the (ID, reason) of the
    excluded ones, in file order."""
    rng = np.random.default_rng(1)
    rows, labels, excluded = [], {}, []
    for start0, end, strand in EXONS:
        start, stop = start0 + 1, end  # 1-based inclusive exon
        ref_seq_genomic = genome[start - 1 - 100 : stop + 100]
        for offset in OFFSETS:
            base, _, delta = offset.partition("+") if "+" in offset else offset.partition("-")
            anchor = {"s": start, "e": stop, "mid": (start + stop) // 2}[base]
            pos = anchor + (int(delta) if "+" in offset else -int(delta or 0))
            ref = genome[pos - 1]
            alt = {"A": "G", "C": "T", "G": "A", "T": "C"}[ref]
            near = min(abs(pos - start), abs(pos - stop)) <= 3
            dpsi = -40.0 if near else float(np.round(rng.uniform(-30, 10), 3))
            i = pos - (start - 100)
            alt_genomic = ref_seq_genomic[:i] + alt + ref_seq_genomic[i + 1 :]
            ref_seq, alt_seq = ((ref_seq_genomic, alt_genomic) if strand == "+"
                                else (revcomp(ref_seq_genomic), revcomp(alt_genomic)))
            row = {"ID": f"chr19_{pos}_{ref}_{alt}", "chrom": "chr19", "start": start, "end": stop, "strand": strand,
                   "pos": pos, "ref": ref, "alt": alt, "dpsi": dpsi, "REF_SEQ": ref_seq, "ALT_SEQ": alt_seq}
            rows.append(row)
            if pos in (start - 2, start - 1, stop + 1, stop + 2):
                excluded.append((row["ID"], SPLICE_DINUCLEOTIDE))
            else:
                labels[row["ID"]] = int(dpsi < -24)
    # special rows: an indel, an ID seen before, no delta PSI, sequences without the SNV, and a REF
    # that the genome does not have (its sequences agree with it: only a genome run can tell)
    first = rows[0]
    specials = [
        {**first, "ID": "chr19_indel", "ref": first["ref"] + "A", "alt": first["ref"]},
        {**rows[1]},
        {**rows[5], "ID": "chr19_nolabel", "dpsi": ""},
        {**rows[6], "ID": "chr19_noseq", "ALT_SEQ": rows[6]["REF_SEQ"]},
    ]
    wrong = dict(rows[7])
    i = wrong["pos"] - (wrong["start"] - 100)
    wrong_ref = {"A": "C", "C": "A", "G": "T", "T": "G"}[wrong["ref"]]
    wrong.update(ID="chr19_wrongref", ref=wrong_ref, dpsi=-1.0,
                 REF_SEQ=wrong["REF_SEQ"][:i] + wrong_ref + wrong["REF_SEQ"][i + 1 :])
    excluded += [("chr19_indel", NOT_SNV), (rows[1]["ID"], DUPLICATE), ("chr19_nolabel", NO_LABEL),
                 ("chr19_noseq", SEQUENCE_MISMATCH)]
    labels["chr19_wrongref"] = 0
    return rows, specials + [wrong], labels, excluded


def _write(path, header, rows, fill):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for index, row in enumerate(rows):
            writer.writerow([index if name == "" else fill(name, row) for name in header])


def _sided(name, row):
    return {"ID": row["ID"], "seqnames": row["chrom"], "start": row["start"], "end": row["end"],
            "width": row["end"] - row["start"] + 1, "strand": row["strand"], "hg19_variant_position": row["pos"],
            "reference": row["ref"], "variant": row["alt"], "HepG2_delta_psi": row["dpsi"], "side": "",
            "REF_SEQ": row["REF_SEQ"], "ALT_SEQ": row["ALT_SEQ"]}.get(name, "0.5")


def _test_pred(name, row):
    return {"chromosome": row["chrom"], "exon_start": row["start"], "exon_end": row["end"]}.get(name) or \
        _sided(name, row)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """The two files at their paths in a mirror of the raw-file host (owner/repo/commit/path)."""
    genome = read_fasta_text(FASTA)
    rows, specials, labels, excluded = _rows(genome)
    root = tmp_path_factory.mktemp("mirror")
    training, test = DATASETS["vexseq"]
    for source, part, header, fill in ((training, rows[:45], SIDED, _sided),
                                       (test, rows[45:] + specials, TEST_PRED, _test_pred)):
        path = root / source.owner / source.repo / source.commit / source.path
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, header, part, fill)
    return root, (labels, excluded), [root / s.owner / s.repo / s.commit / s.path for s in (training, test)]


def test_labels_and_exclusions_by_hand(dataset):
    _, (labels, excluded), paths = dataset
    data = read_vexseq(paths)
    assert {v.id: v.label for v in data.variants} == labels
    assert sorted(data.excluded_rows) == sorted(excluded)
    assert 0 < sum(labels.values()) < len(labels)
    assert data.excluded[SPLICE_DINUCLEOTIDE] == 4 * len(EXONS)
    boundary = [v for v in data.variants if v.effect == -24.0]
    assert all(v.label == 0 for v in boundary)  # "below -24": -24 itself is not an SDV
    minus = next(v for v in data.variants if v.strand == "-")
    assert minus.ref_seq[minus.sequence_index] == revcomp(minus.ref)


def test_benchmark_from_a_mirror_equals_scikit_learn(dataset, file_server, cache, tmp_path, capsys):
    root, (labels_by_id, excluded_rows), _ = dataset
    file_server.root = root
    out = tmp_path / "results"
    assert main(["benchmark", "vexseq", "-m", "demo", "--mirror", file_server.url("").rstrip("/"), "-O", str(out),
                 "-q", "--bootstrap", "50"]) == 0
    printed = capsys.readouterr().out
    assert "0.182" in printed and "the dataset's sequences" in printed
    scores = list(csv.DictReader(open(out / "scores.tsv"), delimiter="\t"))
    assert {row["ID"]: int(row["LABEL"]) for row in scores} == labels_by_id
    results = assert_results_match_sklearn(out)
    assert results["KL_CONTEXT"]["paper_ap"] == "0.182"
    markdown = (out / "results.md").read_text()
    assert "0.182 (SpliceBERT.510nt)" in markdown and "89e9885c39" in markdown
    assert (out / "pr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    excluded = (out / "excluded.tsv").read_text().splitlines()
    assert len(excluded) == 1 + len(excluded_rows)
    summary = json.loads((out / "summary.json").read_text())
    assert [s["path"] for s in summary["sources"]] == [s.path for s in DATASETS["vexseq"]]
    # fetched once: the second run reads the cache, checked against the SHA-256 recorded beside it
    requests = len(file_server.requests)
    assert main(["benchmark", "vexseq", "-m", "demo", "--mirror", file_server.url(""), "-O", str(tmp_path / "r2"),
                 "-q", "--bootstrap", "10"]) == 0
    assert len(file_server.requests) == requests
    cached = next(cache.rglob("MMSplice_test_pred.csv"))
    assert (cached.parent / "MMSplice_test_pred.csv.sha256").is_file()
    cached.write_text(cached.read_text().replace("chr19_indel", "chr19_xndel"))
    assert "differs from the expected" in cli_error(["benchmark", "vexseq", "-m", "demo", "--mirror",
                                                     file_server.url(""), "-O", tmp_path / "r3", "-q"], capsys)


def test_one_score_equals_the_scoring_api(dataset, tmp_path):
    from splicebert_plugin.checkpoints.resolve import resolve_model
    from splicebert_plugin.scoring import score_sequences

    root, _, paths = dataset
    out = tmp_path / "r"
    assert main(["benchmark", "vexseq", "-m", "demo", "--data-dir", str(paths[0].parent), "-O", str(out), "-q",
                 "--bootstrap", "10"]) == 0
    model, _ = resolve_model("demo", device="cpu")
    variants = {v.id: v for v in read_vexseq(paths).variants}
    for row in list(csv.DictReader(open(out / "scores.tsv"), delimiter="\t"))[::20]:
        variant = variants[row["ID"]]
        direct = score_sequences(model, variant.ref_seq, variant.alt_seq, variant.sequence_index)["KL_CONTEXT"]
        assert float(row["KL_CONTEXT"]) == pytest.approx(direct, abs=1e-9)


def test_genome_windows_and_errors(dataset, tmp_path, capsys):
    _, (labels, _), paths = dataset
    out = tmp_path / "g"
    assert main(["benchmark", "vexseq", "-m", "demo", "-R", str(FASTA), "--data-dir", str(paths[0].parent),
                 "-O", str(out), "-q", "--bootstrap", "10"]) == 0
    assert "exon-centred 510-nt windows" in (out / "results.md").read_text()
    excluded = dict(line.split("\t") for line in (out / "excluded.tsv").read_text().splitlines()[1:])
    assert excluded["chr19_wrongref"] == "REF differs from the genome"
    genome_scores = {r["ID"]: float(r["KL_CONTEXT"]) for r in csv.DictReader(open(out / "scores.tsv"), delimiter="\t")}
    assert "chr19_wrongref" not in genome_scores and len(genome_scores) == len(labels) - 1
    assert "neither" in cli_error(["benchmark", "vexseq", "-m", "demo", "--data-dir", tmp_path, "-O",
                                   tmp_path / "m"], capsys)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["benchmark", "vexseq", "--data-dir", str(tmp_path), "--mirror", "http://x", "-O", str(tmp_path / "m")])
    assert "not allowed with argument" in capsys.readouterr().err
