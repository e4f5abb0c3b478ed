"""`splicebert benchmark mfass` and `mapsy`: tables in the real layouts (the authors' MFASS
``snv_data_clean.txt`` columns and order, the MMSplice paper's ``mapsy.txt``), built on the example
genome with SNVs planted at known genomic positions. Labels, exclusions, distances and exon
coordinates are derived here from the genome coordinates, independently of the readers'
construct arithmetic; AP/AUROC are checked against scikit-learn on the written scores."""

import csv
import json

import numpy as np
import pytest

from splicebert_plugin.analysis.variant_benchmarks import (CONSTRUCT_LENGTHS, DUPLICATE, EXON_NOT_FOUND, NO_CALL,
                                                           NO_LABEL, NOT_A_VARIANT, NOT_SNV, SEQUENCE_MISMATCH,
                                                           SPLICE_DINUCLEOTIDE, BENCHMARKS, read_mapsy, read_mfass)
from splicebert_plugin.cli.main import main
from splicebert_plugin.sources.benchmark_data import DATASETS

from .conftest import FASTA, assert_results_match_sklearn, cli_error, read_fasta_text, revcomp

# internal exons of the example genes (0-based half-open) and their strands
EXONS = [(535836, 535923, "+"), (282133, 282310, "-"), (308576, 308665, "-"), (536242, 536340, "+"),
         (371204, 371322, "-")]
SWAP = {"A": "G", "C": "T", "G": "A", "T": "C"}

# snv_data_clean.txt: the authors' column order (ref table columns, category, read sums and indices,
# then the columns the cleaning script adds)
MFASS_HEADER = ["id", "ensembl_id", "sub_id", "chr", "start", "end", "strand", "intron1_len", "exon_len",
                "intron2_len", "ref_allele", "alt_allele", "snp_position", "vcf_id", "rel_position",
                "start_hg38_0based", "end_hg38_0based", "snp_position_hg38_0based_start", "snp_position_hg38_1based",
                "snp_position_hg38_0based_end", "label", "rel_position_feature", "rel_position_scaled", "sequence",
                "original_seq", "mixed_seq", "natural_seq", "category", "v1_R1_sum", "v1_R2_sum", "v1_index_R1",
                "v1_index_R2", "v1_index", "v2_R1_sum", "v2_R2_sum", "v2_index_R1", "v2_index_R2", "v2_index",
                "nat_v1_index_R1", "nat_v1_index_R2", "nat_v2_index_R1", "nat_v2_index_R2", "v1_dpsi_R1",
                "v1_dpsi_R2", "v2_dpsi_R1", "v2_dpsi_R2", "nat_v1_index", "nat_v2_index", "nat_seq", "v1_dpsi",
                "v2_dpsi", "delta_dpsi", "strong_lof", "strong_lof_v1"]
LEFT, RIGHT = 35, 45  # genomic intron flanks of the MFASS constructs (genome order: intron1 left)

MAPSY_HEADER = ["ID", "WT_ID", "MUT_ID", "WT_SEQ", "MUT_SEQ", "Exon_Start", "Vivo_WT_Spliced", "chr", "Exon_End",
                "Vivo_MUT_Spliced", "Vivo_WT_Input", "Vivo_MUT_Input", "Vitro_WT_Spliced", "Vitro_MUT_Spliced",
                "Vitro_WT_Input", "Vitro_MUT_Input", "log2_vivo_ratio", "log2_vitro_ratio", "ESM", "donor",
                "acceptor", "strand", "SIFT", "PolyPhen", "LoFtool", "CADD_phred", "CADD_raw",
                "phastCons100way_vertebrate", "phastCons46way_placental", "phastCons46way_primate",
                "phyloP100way_vertebrate", "phyloP46way_primate", "Exon_Pos", "test", "Exon_PhastCons",
                "acceptor_intronL", "donor_intronL", "Exon_eng"]
ADAPTER5, ADAPTER3 = "CTTATGCGAACGTGA", "AAAGGATTGCTGCTC"


def _orient(seq, strand):
    return seq if strand == "+" else revcomp(seq)


def _planted(start0, end, offsets):
    """1-based genomic positions of SNVs around the exon [start0, end) (1-based s..e)."""
    s, e = start0 + 1, end
    for offset in offsets:
        yield (s + e) // 2 if offset == "mid" else {"s": s, "e": e}[offset[0]] + int(offset[1:] or 0)


OFFSETS = ["s-20", "s-3", "s-2", "s-1", "s", "s+1", "s+12", "mid", "e-8", "e-1", "e", "e+1", "e+2", "e+3", "e+30"]


def _truth(pos, s, e):
    """(excluded as a splice-site dinucleotide?, distance to the nearer exon end), genome coordinates."""
    return pos in (s - 2, s - 1, e + 1, e + 2), min(abs(pos - s), abs(pos - e))


def _write(path, header, rows, delimiter):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, header, delimiter=delimiter, restval="0.5", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


# ---------------------------------------------------------------------------------------- MFASS


def _mfass_rows(genome):
    rng = np.random.default_rng(2)
    rows, truth, excluded = [], {}, []
    for n, (start0, end, strand) in enumerate(EXONS):
        s, e = start0 + 1, end
        cs, ce = s - LEFT, e + RIGHT  # the construct, 1-based inclusive, genome order
        natural = _orient(genome[cs - 1 : ce], strand)
        exon_id = f"ENSE0000000{n}"
        base = {"ensembl_id": exon_id, "chr": "chr19", "start": cs, "end": ce, "strand": strand, "intron1_len": LEFT,
                "exon_len": e - s + 1, "intron2_len": RIGHT, "nat_seq": natural, "nat_v2_index": 0.9}
        rows.append({**base, "id": f"{exon_id}_000", "sub_id": "000", "category": "natural", "ref_allele": "NA",
                     "alt_allele": "NA", "snp_position": "NA", "rel_position": "NA", "original_seq": natural,
                     "v2_dpsi": 0, "strong_lof": "FALSE"})
        excluded.append((f"{exon_id}_000", NOT_A_VARIANT))
        for k, pos in enumerate(_planted(start0, end, OFFSETS), start=1):
            ref = genome[pos - 1]
            alt = SWAP[ref]
            rel = pos - cs + 1 if strand == "+" else ce - pos + 1
            mutated = genome[cs - 1 : pos - 1] + alt + genome[pos:ce]
            dinucleotide, distance = _truth(pos, s, e)
            dpsi = -0.8 if distance <= 3 else float(np.round(rng.uniform(-0.6, 0.1), 3))
            vid = f"{exon_id}_{k:03d}"
            rows.append({**base, "id": vid, "sub_id": f"{k:03d}", "category": "mutant", "ref_allele": ref,
                         "alt_allele": alt, "snp_position": pos, "rel_position": rel,
                         "original_seq": _orient(mutated, strand), "v2_dpsi": dpsi,
                         "strong_lof": "TRUE" if dpsi <= -0.5 else "FALSE"})
            if dinucleotide:
                excluded.append((vid, SPLICE_DINUCLEOTIDE))
            else:
                truth[vid] = {"label": int(dpsi <= -0.5), "distance": distance, "pos": pos, "exon": (s, e),
                              "ref": ref, "alt": alt}
    mutants = [r for r in rows if r["category"] == "mutant" and r["id"] in truth]
    exact = dict(mutants[4], id="ENSE_boundary", v2_dpsi=-0.5)  # the authors' rule: -0.5 is an SDV
    truth["ENSE_boundary"] = {**truth[mutants[4]["id"]], "label": 1}
    minus = next(r for r in mutants if r["strand"] == "-")
    oriented = dict(minus, id="ENSE_oriented_alleles", ref_allele=revcomp(minus["ref_allele"]),
                    alt_allele=revcomp(minus["alt_allele"]))
    truth["ENSE_oriented_alleles"] = truth[minus["id"]]
    wrong = dict(mutants[6], id="ENSE_wrongref")  # sequences and alleles agree; the genome does not
    v = wrong["rel_position"] - 1
    wrong_base = {"A": "C", "C": "A", "G": "T", "T": "G"}[wrong["original_seq"][v]]
    wrong.update(nat_seq=wrong["nat_seq"][:v] + wrong_base + wrong["nat_seq"][v + 1 :],
                 ref_allele=_orient(wrong_base, wrong["strand"]))
    truth["ENSE_wrongref"] = {**truth[mutants[6]["id"]], "ref": _orient(wrong_base, wrong["strand"])}
    specials = [
        exact, oriented, wrong,
        dict(mutants[0]),  # the same id again
        dict(mutants[1], id="ENSE_na", v2_dpsi="NA", strong_lof="NA"),
        dict(mutants[2], id="ENSE_mnv", ref_allele="AC", alt_allele="GT"),
        dict(mutants[3], id="ENSE_badrel", rel_position=mutants[3]["rel_position"] + 1),
        dict(mutants[5], id="ENSE_badlen", intron2_len=RIGHT + 1),
        dict(mutants[7], id="ENSE_BRK", category="control"),
    ]
    excluded += [(mutants[0]["id"], DUPLICATE), ("ENSE_na", NO_LABEL), ("ENSE_mnv", NOT_SNV),
                 ("ENSE_badrel", SEQUENCE_MISMATCH), ("ENSE_badlen", CONSTRUCT_LENGTHS), ("ENSE_BRK", NOT_A_VARIANT)]
    return rows + specials, truth, excluded


def _mirror(tmp_path_factory, name, build_rows, header, delimiter):
    """(mirror root, the file at its path in the raw-file host layout, truth, expected exclusions)."""
    rows, truth, excluded = build_rows(read_fasta_text(FASTA))
    root = tmp_path_factory.mktemp("mirror")
    (source,) = DATASETS[name]
    path = root / source.owner / source.repo / source.commit / source.path
    _write(path, header, rows, delimiter)
    return root, path, truth, excluded


@pytest.fixture(scope="module")
def mfass(tmp_path_factory):
    return _mirror(tmp_path_factory, "mfass", _mfass_rows, MFASS_HEADER, "\t")


def test_mfass_labels_exclusions_and_coordinates_by_hand(mfass):
    _, path, truth, excluded = mfass
    data = read_mfass([path])
    assert sorted(data.excluded_rows) == sorted(excluded)
    assert data.excluded[SPLICE_DINUCLEOTIDE] == 4 * len(EXONS)
    assert {v.id: v.label for v in data.variants} == {vid: t["label"] for vid, t in truth.items()}
    assert 0 < sum(v.label for v in data.variants) < len(data.variants)
    for v in data.variants:
        t = truth[v.id]
        # construct arithmetic (rel_position, strand-swapped intron lengths) against genome coordinates
        assert (v.pos, (v.exon_start, v.exon_end), v.distance_to_splice_site) == (t["pos"], t["exon"], t["distance"])
        assert (v.ref, v.alt) == (t["ref"], t["alt"])  # plus-strand alleles, whichever way the table gave them
        assert v.ref_seq[v.sequence_index] == _orient(v.ref, v.strand)


def test_mfass_from_a_mirror_and_on_the_genome(mfass, file_server, cache, tmp_path, capsys):
    root, path, truth, _ = mfass
    file_server.root = root
    out = tmp_path / "seq"
    assert main(["benchmark", "mfass", "-m", "demo", "--mirror", file_server.url(""), "-O", str(out), "-q",
                 "--bootstrap", "20"]) == 0
    assert "the dataset's constructs" in capsys.readouterr().out
    scores = {r["ID"]: r for r in csv.DictReader(open(out / "scores.tsv"), delimiter="\t")}
    assert {vid: int(r["LABEL"]) for vid, r in scores.items()} == {vid: t["label"] for vid, t in truth.items()}
    results = assert_results_match_sklearn(out)
    assert results["KL_CONTEXT"]["paper_ap"] == "0.118"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sources"][0]["repo"] == "KosuriLab/MFASS" and "9660bd155b" in (out / "results.md").read_text()

    genome_out = tmp_path / "genome"
    assert main(["benchmark", "mfass", "-m", "demo", "-R", str(FASTA), "--data-dir", str(path.parent), "-O",
                 str(genome_out), "-q", "--bootstrap", "10"]) == 0
    assert "hg19 coordinates), exon-centred 510-nt windows" in (genome_out / "results.md").read_text()
    excluded = dict(line.split("\t") for line in (genome_out / "excluded.tsv").read_text().splitlines()[1:])
    assert excluded["ENSE_wrongref"] == "REF differs from the genome"
    genome_scores = {r["ID"]: r for r in csv.DictReader(open(genome_out / "scores.tsv"), delimiter="\t")}
    assert set(genome_scores) == set(truth) - {"ENSE_wrongref"}
    assert_results_match_sklearn(genome_out)


def test_mfass_genome_of_another_build_is_refused(mfass, tmp_path, capsys):
    _, path, _, _ = mfass
    scrambled = tmp_path / "other.fa"
    lines = FASTA.read_text().splitlines()
    scrambled.write_text("\n".join([lines[0]] + [line.translate(str.maketrans("ACGTacgt", "CATGcatg"))
                                                 for line in lines[1:]]) + "\n")
    stale = tmp_path / "o" / "summary.json"  # an earlier run's finished-run marker
    stale.parent.mkdir()
    stale.write_text("{}")
    message = cli_error(["benchmark", "mfass", "-m", "demo", "-R", scrambled, "--data-dir", path.parent,
                         "-O", tmp_path / "o", "-q"], capsys)
    assert "REF alleles differ" in message and "hg19" in message
    assert not stale.exists()  # the stopped run does not leave the folder looking finished


def test_a_table_in_another_layout_is_refused(mfass, tmp_path, capsys):
    _, path, _, _ = mfass
    other = tmp_path / "snv_data_clean.txt"
    other.write_text(path.read_text().replace("\tv2_dpsi\t", "\tdpsi\t", 1))
    message = cli_error(["benchmark", "mfass", "-m", "demo", "--data-dir", tmp_path, "-O", tmp_path / "o"], capsys)
    assert "missing column(s) ['v2_dpsi']" in message and "MFASS" in message


# ---------------------------------------------------------------------------------------- MaPSy


def _mapsy_rows(genome):
    rng = np.random.default_rng(3)
    rows, truth, excluded = [], {}, []
    for n, (start0, end, strand) in enumerate(EXONS):
        s, e = start0 + 1, end
        if e - s + 1 > 120:
            continue  # the reporter holds 170 nt of genome
        left = (170 - (e - s + 1)) // 2 + (3 if strand == "+" else -3)
        cs, ce = s - left, s - left + 169
        insert = _orient(genome[cs - 1 : ce], strand)
        upstream = _orient(genome[s - 16 : s - 1], strand) if strand == "+" else revcomp(genome[e : e + 15])
        downstream = _orient(genome[e : e + 15], strand) if strand == "+" else revcomp(genome[s - 16 : s - 1])
        wt = ADAPTER5 + insert + ADAPTER3
        wt_id = f"CM{n:06d}W"
        for k, pos in enumerate(_planted(start0, end, OFFSETS)):
            if not cs <= pos <= ce:
                continue
            ref = genome[pos - 1]
            mutated = genome[cs - 1 : pos - 1] + SWAP[ref] + genome[pos:ce]
            mt = ADAPTER5 + _orient(mutated, strand) + ADAPTER3
            dinucleotide, distance = _truth(pos, s, e)
            esm = int(distance <= 2 or rng.uniform() < 0.2)
            vid = f"{wt_id}_CM{n:03d}{k:03d}M"
            rows.append({"ID": vid, "WT_ID": wt_id, "MUT_ID": vid[-9:], "WT_SEQ": wt, "MUT_SEQ": mt,
                         "Exon_Start": s, "Exon_End": e, "chr": "chr19", "strand": strand,
                         "acceptor": upstream, "donor": downstream, "ESM": esm,
                         "log2_vivo_ratio": float(np.round(rng.normal(), 4)), "test": "FALSE"})
            if dinucleotide:
                excluded.append((vid, SPLICE_DINUCLEOTIDE))
            else:
                truth[vid] = {"label": esm, "distance": distance, "index": 15 + (pos - cs if strand == "+"
                                                                                 else ce - pos)}
    kept = [r for r in rows if r["ID"] in truth]
    one_end = dict(kept[3], ID="CM_acceptor_unknown", acceptor="NNNNNNNNNNNNNNN")  # the donor end suffices
    truth["CM_acceptor_unknown"] = truth[kept[3]["ID"]]
    specials = [
        one_end,
        dict(kept[0]),
        dict(kept[1], ID="CM_nocall", ESM="NA"),
        dict(kept[2], ID="CM_same", MUT_SEQ=kept[2]["WT_SEQ"]),
        dict(kept[4], ID="CM_two", MUT_SEQ=kept[4]["MUT_SEQ"][:5] + "N" + kept[4]["MUT_SEQ"][6:]),
        dict(kept[5], ID="CM_noexon", acceptor="ACGTACGTACGTACG", donor="TTTTTCCCCCGGGGG"),
        dict(kept[6], ID="CM_wronglength", Exon_End=kept[6]["Exon_End"] + 4),
    ]
    excluded += [(kept[0]["ID"], DUPLICATE), ("CM_nocall", NO_CALL), ("CM_same", NOT_SNV), ("CM_two", NOT_SNV),
                 ("CM_noexon", EXON_NOT_FOUND), ("CM_wronglength", EXON_NOT_FOUND)]
    return rows + specials, truth, excluded


@pytest.fixture(scope="module")
def mapsy(tmp_path_factory):
    return _mirror(tmp_path_factory, "mapsy", _mapsy_rows, MAPSY_HEADER, ",")


def test_mapsy_labels_exclusions_and_exon_by_hand(mapsy):
    _, path, truth, excluded = mapsy
    data = read_mapsy([path])
    assert sorted(data.excluded_rows) == sorted(excluded)
    assert {v.id: (v.label, v.distance_to_splice_site, v.sequence_index) for v in data.variants} == \
        {vid: (t["label"], t["distance"], t["index"]) for vid, t in truth.items()}
    assert all(len(v.ref_seq) == 200 and v.pos is None for v in data.variants)


def test_mapsy_from_a_mirror(mapsy, file_server, cache, tmp_path, capsys):
    root, path, truth, _ = mapsy
    file_server.root = root
    out = tmp_path / "r"
    assert main(["benchmark", "mapsy", "-m", "demo", "--mirror", file_server.url(""), "-O", str(out), "-q",
                 "--bootstrap", "20"]) == 0
    printed = capsys.readouterr().out
    assert "ESM" in printed and "200-nt reporter sequences" in printed
    scores = {r["ID"]: r for r in csv.DictReader(open(out / "scores.tsv"), delimiter="\t")}
    assert {vid: int(r["LABEL"]) for vid, r in scores.items()} == {vid: t["label"] for vid, t in truth.items()}
    assert "LOG2_VIVO_RATIO" in next(iter(scores.values()))
    results = assert_results_match_sklearn(out)
    assert results["KL_CONTEXT"]["paper_ap"] == ""
    assert "not reported" in (out / "results.md").read_text()
    message = cli_error(["benchmark", "mapsy", "-m", "demo", "-R", FASTA, "--data-dir", path.parent,
                         "-O", tmp_path / "g"], capsys)
    assert "-R is not used" in message


def test_every_benchmark_has_its_files():
    assert set(BENCHMARKS) == set(DATASETS)
