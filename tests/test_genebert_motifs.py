"""GeneBERT part 1: motifs, thresholds, scanning, regions and the corpus (GENEBERT.md tests 3, 4, 5, 12),
checked against brute force, a second implementation and Biopython."""

import json

import numpy as np
import pytest

pytest.importorskip("pyjaspar")

from splicebert_plugin.training.genebert.motif_scan import MotifBank, codes, matrix_values, region_matrix, window_scores  # noqa: E402
from splicebert_plugin.training.genebert.motifs import (  # noqa: E402
    build_motifs,
    integer_weights,
    load_jaspar,
    log_odds,
    read_motifs,
    threshold,
    write_motifs,
)
from splicebert_plugin.training.genebert.regions import (  # noqa: E402
    Region,
    cpg_islands,
    parse_peak_name,
    pseudo_bulk,
    read_bed_regions,
    tiles,
    tss_windows,
)

from .conftest import FASTA, GENES, read_fasta_text  # noqa: E402

BACKGROUND = [0.3, 0.2, 0.2, 0.3]


@pytest.fixture(scope="module")
def jaspar():
    return load_jaspar("JASPAR2018")


@pytest.fixture(scope="module")
def motifs(jaspar):
    return build_motifs(jaspar, BACKGROUND)


def brute_force_threshold(weights, background, p):
    """Enumerate every sequence of the motif's length: the smallest score whose tail is <= p."""
    length = weights.shape[1]
    grid = np.indices((4,) * length).reshape(length, -1)  # every sequence, one column each
    scores = weights[grid, np.arange(length)[:, None]].sum(axis=0)
    probs = np.prod(np.asarray(background)[grid], axis=0)
    order = np.argsort(-scores, kind="stable")
    scores, tails = scores[order], np.cumsum(probs[order])
    last = np.r_[np.flatnonzero(np.diff(scores) != 0), len(scores) - 1]  # the end of each run of one score
    values, tail = scores[last], tails[last]  # descending scores, P(score >= value)
    good = values[tail <= p * (1 + 1e-12)]
    return (int(good[-1]), True) if len(good) else (int(values[0]), False)


def test_jaspar_2018_core_vertebrates(jaspar, motifs):
    assert len(jaspar) == 579 and any(m.matrix_id == "MA0139.1" and m.name == "CTCF" for m in jaspar)
    keys = [(m.tf_class, m.tf_family, m.matrix_id) for m in motifs]
    assert keys == sorted(keys)  # columns ordered by TF class, family, id


def test_thresholds_equal_brute_force_enumeration(jaspar):
    short = [m for m in jaspar if m.length <= 8] + [next(m for m in jaspar if m.length == 10)]
    assert len(short) == 85
    for motif in short:
        counts = np.array([motif.counts[b] for b in "ACGT"], dtype=float)
        weights = integer_weights(counts, BACKGROUND)
        assert threshold(weights, BACKGROUND, 5e-5) == brute_force_threshold(weights, BACKGROUND, 5e-5), motif.matrix_id


def test_unreachable_p_is_the_best_score_and_flagged(jaspar):
    gc_rich = [0.18, 0.32, 0.32, 0.18]
    built = build_motifs([m for m in jaspar if m.length == 6], gc_rich)
    unreachable = [m for m in built if not m.p_reachable]
    assert unreachable
    for motif in unreachable:
        assert motif.threshold == int(motif.weight_array().max(axis=0).sum())


def test_thresholds_agree_with_biopython(jaspar):
    """Biopython's ScoreDistribution is discretised and answers the other side of the cut (the
    highest score whose tail reaches p): its threshold lies between the achievable score below
    ours and ours, give or take its grid (half a step per column)."""
    from splicebert_plugin.training.genebert.motifs import score_distribution

    background = dict(zip("ACGT", BACKGROUND))
    for motif in jaspar[::58]:
        counts = np.array([motif.counts[b] for b in "ACGT"], dtype=float)
        weights = integer_weights(counts, BACKGROUND)
        ours, reachable = threshold(weights, BACKGROUND, 5e-5)
        if not reachable:
            continue
        lowest, distribution = score_distribution(weights, BACKGROUND)
        achievable = lowest + np.flatnonzero(distribution > 0)
        below = achievable[achievable < ours].max()
        pssm = motif.counts.normalize(pseudocounts={b: 0.8 * background[b] for b in "ACGT"}).log_odds(background)
        grid = pssm.distribution(background=background, precision=10 ** 3)
        theirs = grid.threshold_fpr(5e-5)
        slack = motif.length * grid.step / 2 + motif.length * 0.0005
        assert below / 1000 - slack <= theirs <= ours / 1000 + slack, motif.matrix_id
        np.testing.assert_allclose(log_odds(counts, BACKGROUND), np.array([pssm[b] for b in "ACGT"]), atol=1e-9)


def test_scan_equals_an_independent_gather_and_a_double_loop(motifs):
    sequence = read_fasta_text(FASTA)[496_000:498_000]
    sequence = sequence[:700] + "N" + sequence[701:1500] + "nR" + sequence[1502:]
    bank = MotifBank.from_motifs(motifs)
    scores = window_scores(bank, sequence)
    code = codes(sequence)
    n = len(code)
    for k, motif in enumerate(motifs):
        w = motif.weight_array()
        length = w.shape[1]
        windows = np.lib.stride_tricks.sliding_window_view(np.r_[code, np.full(length - 1, -1)], length)
        forward = w[np.clip(windows, 0, 3), np.arange(length)].sum(axis=1)
        reverse = w[3 - np.clip(windows[:, ::-1], 0, 3), np.arange(length)].sum(axis=1)
        valid = (windows >= 0).all(axis=1)
        expected = np.stack([np.where(valid, forward, -np.inf), np.where(valid, reverse, -np.inf)])
        np.testing.assert_array_equal(scores[k], expected.astype(np.float32), err_msg=motif.matrix_id)
    for k in (0, 288, 578):  # and a literal double loop at the edges and around the N
        w, length = motifs[k].weight_array(), motifs[k].length
        for i in (0, 690, 700, 1495, n - length, n - length + 1, n - 1):
            window = sequence[i : i + length].upper()
            if len(window) == length and set(window) <= set("ACGT"):
                expected_f = sum(int(w["ACGT".index(b), j]) for j, b in enumerate(window))
                rc = window[::-1].translate(str.maketrans("ACGT", "TGCA"))
                expected_r = sum(int(w["ACGT".index(b), j]) for j, b in enumerate(rc))
                assert (scores[k, 0, i], scores[k, 1, i]) == (expected_f, expected_r)
            else:
                assert scores[k, 0, i] == scores[k, 1, i] == -np.inf
    counts, best = region_matrix(bank, [sequence[:1000], sequence[1000:]])
    for r, part in enumerate((scores[:, :, :1000], None)):
        if part is None:
            continue
        valid_part = window_scores(bank, sequence[:1000])
        assert (counts[r] == (valid_part >= bank.thresholds[:, None, None]).sum(axis=(1, 2))).all()
        np.testing.assert_array_equal(best[r], valid_part.max(axis=(1, 2)))


def test_forward_scores_equal_biopython_pssm(jaspar, motifs):
    from Bio.Seq import Seq

    background = dict(zip("ACGT", BACKGROUND))
    sequence = read_fasta_text(FASTA)[300_000:300_400]
    bank = MotifBank.from_motifs(motifs)
    scores = window_scores(bank, sequence)
    by_id = {m.matrix_id: m for m in jaspar}
    for k, motif in list(enumerate(motifs))[::37]:
        pssm = by_id[motif.matrix_id].counts.normalize(
            pseudocounts={b: 0.8 * background[b] for b in "ACGT"}).log_odds(background)
        theirs = pssm.calculate(Seq(sequence))
        ours = scores[k, 0, : len(theirs)] / 1000
        assert np.abs(ours - theirs).max() <= 0.0005 * motif.length + 1e-9, motif.matrix_id


def test_matrix_values_and_motif_file_round_trip(tmp_path, motifs):
    counts = np.array([[0, 2], [5, 0]])
    best = np.array([[-np.inf, 1500.0], [2500.0, 100.0]], dtype=np.float32)
    np.testing.assert_array_equal(matrix_values(counts, best, "match"), [[0, 1], [1, 0]])
    np.testing.assert_allclose(matrix_values(counts, best, "log1p_count"), np.log1p(counts))
    np.testing.assert_allclose(matrix_values(counts, best, "max_score"), [[0, 1.5], [2.5, 0.1]])
    write_motifs(tmp_path / "motifs.json", motifs[:5], {"p_value": 5e-5})
    again, settings = read_motifs(tmp_path / "motifs.json")
    assert again == motifs[:5] and settings == {"p_value": 5e-5}


# ---------------------------------------------------------------------------------------------- regions


def brute_force_islands(sequence, window=500, min_gc=0.55, min_ratio=0.65):
    """Windows one by one, then the same merge and recheck, written out."""
    text = sequence.upper()

    def ok(s, e):
        part = text[s:e]
        c, g, cg = part.count("C"), part.count("G"), part.count("CG")
        return c * g > 0 and (c + g) >= min_gc * len(part) and cg * len(part) >= min_ratio * c * g - 1e-9

    passing = [ok(i, i + window) for i in range(len(text) - window + 1)]
    runs, i = [], 0
    while i < len(passing):
        if passing[i]:
            j = i
            while j + 1 < len(passing) and passing[j + 1]:
                j += 1
            runs.append((i, j + window))
            i = j + 1
        else:
            i += 1
    merged = []
    for start, end in runs:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return [(s, e) for s, e in merged if ok(s, e)]


def test_cpg_islands_on_a_hand_built_sequence_and_real_sequence():
    rng = np.random.default_rng(0)
    at_rich = "".join(rng.choice(list("AT"), 3000))
    island = "".join(rng.choice(["CG", "GC", "CA", "TG"], 400))  # 800 nt, GC-rich, CpG-dense
    sequence = at_rich[:1000] + island + at_rich[1000:]
    found = cpg_islands(sequence, offset=100)
    assert len(found) == 1
    start, end = found[0]
    assert start - 100 <= 1000 and end - 100 >= 1800  # the island is inside the call...
    assert start - 100 > 1000 - 500 and end - 100 < 1800 + 500  # ...which reaches at most a window beyond it
    assert [(s + 100, e + 100) for s, e in brute_force_islands(sequence)] == found
    real = read_fasta_text(FASTA)[400_000:460_000]
    assert cpg_islands(real) == brute_force_islands(real)
    assert len(cpg_islands(read_fasta_text(FASTA))) == 32  # regression: the bundled 560-kb chr19 slice


def test_pseudo_bulk_tiles_tss_and_bed(tmp_path):
    import scipy.sparse

    matrix = scipy.sparse.csr_matrix(np.array([
        [1, 0, 0, 2, 0, 0],
        [0, 0, 0, 0, 0, 0],
        [0, 3, 0, 0, 0, 1],
        [1, 1, 0, 0, 0, 0],
        [0, 0, 5, 0, 0, 0],
    ]))
    peaks = ["chr2:100-600", "chr1_50_300", "chr1-900-1400", "chr1:10-40", "chr3:0-500"]
    types = ["neuron", "neuron", "glia", "glia", "neuron", "glia"]
    tracks = pseudo_bulk(matrix, peaks, types)
    # by hand: neuron = cells 0, 1, 4; glia = cells 2, 3, 5
    # peak 1 has no read at all; peak 0: cells 0 (neuron) and 3 (glia); peak 2: cells 1 and 5; peak 3:
    # cells 0 and 1; peak 4: cell 2
    assert tracks["neuron"] == [Region("chr1", 10, 40), Region("chr1", 900, 1400), Region("chr2", 100, 600)]
    assert tracks["glia"] == [Region("chr1", 900, 1400), Region("chr2", 100, 600), Region("chr3", 0, 500)]
    assert pseudo_bulk(matrix, peaks, types, min_cells=2)["neuron"] == [Region("chr1", 10, 40)]
    with pytest.raises(ValueError, match="peak name"):
        parse_peak_name("peak7")
    assert tiles(105, 50, offset=10) == [(10, 60), (60, 110)]
    from splicebert_plugin.io.annotation import read_annotation

    genes = {g.name: g for g in read_annotation(GENES).overlapping("19", 0, 10**9)}
    plus, minus = genes["CDC34"], genes["MIER2"]
    (w_plus, w_minus) = tss_windows([plus, minus], 34, 35)
    assert w_plus == ("19", plus.start - 34, plus.start + 36, "+", "CDC34")
    assert w_minus == ("19", minus.end - 1 - 35, minus.end - 1 + 35, "-", "MIER2")  # TSS = TX_END - 1
    bed = tmp_path / "peaks.bed"
    bed.write_text("chr2\t5\t9\nchr1\t20\t30\tname\n")
    assert read_bed_regions(bed) == [Region("chr1", 20, 30), Region("chr2", 5, 9)]
    bed.write_text("chr1\t30\t20\n")
    with pytest.raises(ValueError, match="line 1"):
        read_bed_regions(bed)


# ---------------------------------------------------------------------------------------------- corpus


def test_corpus_is_built_reused_and_rebuilt_when_motif_settings_change(tmp_path, jaspar):
    from splicebert_plugin.training.genebert.corpus import (CorpusSettings, GeneBertCorpus, TrackInput,
                                                            build_genebert_corpus)

    genome = read_fasta_text(FASTA)[400_000:460_000]  # gene-rich, no N
    fasta = tmp_path / "g.fa"
    fasta.write_text(">chr19\n" + genome + "\n")
    peaks = tmp_path / "neurons.bed"
    peaks.write_text("19\t1000\t1400\n19\t5000\t5200\n19\t59990\t60100\nchrX\t10\t500\n")  # one past the end, one elsewhere
    tracks = [TrackInput("neurons", "bed", str(peaks)), TrackInput("tiles", "tiles")]
    out = build_genebert_corpus(str(fasta), tracks, tmp_path / "corpus", motifs_raw=jaspar[:40], progress=False)
    corpus = GeneBertCorpus(out)
    meta = corpus.meta
    assert meta["regions"] == len(corpus) == 1200 + 2  # 1,200 tiles of 50 nt + 2 usable peaks
    assert meta["skipped"]["window past a contig end"] == 1
    assert meta["summary"]["neurons"] == {**meta["summary"]["neurons"], "regions": 2, "given": 3}
    neurons = corpus.tracks["neurons"]
    assert [int(corpus.regions[i]["start"]) for i in neurons] == [1000, 5000]
    shown = int(corpus.regions[neurons[0]]["shown"])
    assert shown == 1200 - 25 and corpus.window(neurons[0]) == genome[shown : shown + 50]
    bank = MotifBank.from_motifs(corpus.motifs)
    counts, _ = region_matrix(bank, [corpus.window(int(i)) for i in neurons])
    np.testing.assert_array_equal(np.asarray(corpus.counts[neurons]), counts)  # rows = a fresh scan of the DNA shown
    assert len(corpus.tf_ids) == 40 and abs(sum(meta["background"]) - 1) < 1e-9
    stamp = (out / "meta.json").stat().st_mtime_ns
    build_genebert_corpus(str(fasta), tracks, out, motifs_raw=jaspar[:40], progress=False)
    assert (out / "meta.json").stat().st_mtime_ns == stamp  # unchanged inputs: reused
    build_genebert_corpus(str(fasta), tracks, out, motifs_raw=jaspar[:40], progress=False,
                          settings=CorpusSettings(p_value=1e-4))
    rebuilt = json.loads((out / "meta.json").read_text())
    assert rebuilt["settings"]["p_value"] == 1e-4 and rebuilt["fingerprint"] != meta["fingerprint"]
    build_genebert_corpus(str(fasta), tracks, out, progress=False, settings=CorpusSettings(jaspar_release="JASPAR2020"))
    assert json.loads((out / "meta.json").read_text())["motifs"] == 746  # JASPAR 2020 CORE vertebrates


def test_corpus_leaves_out_regions_overlapping_an_exclusion_bed(tmp_path, jaspar):
    from splicebert_plugin.training.genebert.corpus import GeneBertCorpus, TrackInput, build_genebert_corpus

    fasta = tmp_path / "g.fa"
    fasta.write_text(">chr19\n" + read_fasta_text(FASTA)[400_000:405_000] + "\n")
    exclude = tmp_path / "test_windows.bed"
    exclude.write_text("19\t120\t171\nchr19\t1000\t1001\nchrX\t0\t5000\n")  # tiles 2-3 / 20 / another contig
    out = build_genebert_corpus(str(fasta), [TrackInput("tiles", "tiles")], tmp_path / "c", motifs_raw=jaspar[:5],
                                exclude=str(exclude), progress=False)
    corpus = GeneBertCorpus(out)
    starts = set(corpus.regions["start"].tolist())
    assert corpus.meta["skipped"]["overlaps an excluded interval"] == 3 and len(corpus) == 100 - 3
    assert not {100, 150, 1000} & starts and {50, 200, 950, 1050} <= starts
    with pytest.raises(Exception, match="exclusion BED"):
        build_genebert_corpus(str(fasta), [TrackInput("tiles", "tiles")], tmp_path / "d", motifs_raw=jaspar[:5],
                              exclude=str(tmp_path / "missing.bed"), progress=False)


def test_build_corpus_recipe_from_a_single_cell_matrix(tmp_path, capsys):
    """The recipe end to end: a peaks x cells Matrix Market file pseudo-bulked into tracks, plus
    CpG islands; bad arguments end in one line and status 2."""
    import scipy.io
    import scipy.sparse

    from .conftest import load_recipe

    genome = read_fasta_text(FASTA)[400_000:430_000]
    fasta = tmp_path / "g.fa"
    fasta.write_text(">chr19\n" + genome + "\n")
    peaks = ["chr19:1000-1500", "chr19:8000-8300", "chr19:20000-20600"]
    (tmp_path / "peaks.txt").write_text("\n".join(peaks) + "\n")
    (tmp_path / "cells.tsv").write_text("c1\tneuron\nc2\tneuron\nc3\tAstrocytes/Oligodendrocytes\n")
    scipy.io.mmwrite(str(tmp_path / "counts.mtx"), scipy.sparse.coo_matrix(np.array([[1, 0, 0], [0, 2, 1], [0, 0, 3]])))
    recipe = load_recipe("genebert/build_corpus")
    out = tmp_path / "corpus"
    argv = [str(out), "--genome", str(fasta), "--mtx", str(tmp_path / "counts.mtx"), "--peaks",
            str(tmp_path / "peaks.txt"), "--cells", str(tmp_path / "cells.tsv"), "--cpg-islands", "-q"]
    assert recipe.main(argv) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    glia = "Astrocytes/Oligodendrocytes"  # a real Descartes-style label: "/" must not become a folder
    assert summary["neuron"]["regions"] == 2 and summary[glia]["regions"] == 2  # peaks 0, 1 / peaks 1, 2
    from splicebert_plugin.training.genebert.corpus import GeneBertCorpus, track_file_stem

    corpus = GeneBertCorpus(out)
    assert set(corpus.tracks) == {"neuron", glia, "cpg_islands"} and len(corpus.tracks[glia]) == 2
    assert (out / "tracks" / "Astrocytes%2FOligodendrocytes.npy").is_file()
    assert {track_file_stem(n) for n in ("a b", "a/b", "a%2Fb", "..", "")} == {"a%20b", "a%2Fb", "a%252Fb", "%2E%2E",
                                                                             "%00"}
    assert "cpg_islands" in summary and summary["neuron"]["match_density"] >= 0
    assert recipe.main([str(out), "--genome", str(tmp_path / "missing.fa"), "--tiles", "-q"]) == 2
    assert "missing.fa does not exist" in capsys.readouterr().err
    assert recipe.main([str(out), "--genome", str(fasta), "--track", "nameless.bed", "-q"]) == 2
    assert "NAME=BED" in capsys.readouterr().err
