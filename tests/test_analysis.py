"""The analyses against independent computations: transformers' own BERT for embeddings and
attention maps, scikit-learn for AP/AUROC, direct slicing for windows; the tools end to end."""

import json

import numpy as np
import pytest
import torch
from transformers import BertForMaskedLM, BertModel

from splicebert_plugin.analysis import embed, evaluate, pair_attention
from splicebert_plugin.checkpoints import load_masked_lm
from splicebert_plugin.cli.main import main
from splicebert_plugin.io.bed import BedError, read_pairs, read_sites

from .conftest import EXAMPLE, FASTA, GENES, VCF, cli_error, read_fasta_text, revcomp

MANE = EXAMPLE / "mane_introns_chr19.bedpe"
SITES = EXAMPLE / "splice_sites.bed"


def random_sequences(n, length, seed=0):
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]


def bert_ids(sequences):
    token = {"N": 5, "A": 6, "C": 7, "G": 8, "T": 9}
    return torch.tensor([[2] + [token[c] for c in s] + [3] for s in sequences])


# ---------------------------------------------------------------------------------------------- embeddings


def test_embeddings_equal_transformers_bert_at_every_layer(checkpoint_510):
    ours = load_masked_lm(checkpoint_510)
    bert = BertModel.from_pretrained(str(checkpoint_510), add_pooling_layer=False).eval()
    sequences = random_sequences(3, 120)
    with torch.no_grad():
        states = bert(bert_ids(sequences), output_hidden_states=True).hidden_states
    assert len(states) == ours.config.num_hidden_layers + 1
    for layer, expected in enumerate(states):
        expected = expected[:, 1:-1].numpy()
        got = embed(ours, sequences, layer, batch_size=2)
        assert got.shape == (3, 120, ours.config.hidden_size)
        np.testing.assert_allclose(got, expected, atol=2e-5, rtol=0)
        np.testing.assert_allclose(embed(ours, sequences, layer, pool="mean"), expected.mean(1), atol=2e-5, rtol=0)
        np.testing.assert_allclose(embed(ours, sequences, layer, pool="center"), expected[:, 60], atol=2e-5, rtol=0)


def test_mean_pooling_of_unequal_lengths_equals_one_at_a_time(tiny_510):
    model = load_masked_lm(tiny_510).train()  # the caller's mode is kept
    sequences = random_sequences(2, 90, seed=1) + random_sequences(1, 40, seed=2)
    pooled = embed(model, sequences, 2, pool="mean", batch_size=3)
    for k, sequence in enumerate(sequences):
        alone = embed(model, [sequence], 2, pool="mean")
        np.testing.assert_allclose(pooled[k], alone[0], atol=2e-5, rtol=0)
    assert model.training
    with pytest.raises(ValueError, match="different lengths"):
        embed(model, sequences, 2)
    with pytest.raises(ValueError, match="do not exist"):
        embed(model, sequences, 9, pool="mean")


# ---------------------------------------------------------------------------------------------- attention


def test_pair_attention_equals_transformers_eager_maps(checkpoint_510):
    ours = load_masked_lm(checkpoint_510)  # SDPA by default
    bert = BertForMaskedLM.from_pretrained(str(checkpoint_510), attn_implementation="eager").eval()
    sequence = random_sequences(1, 200, seed=4)[0]
    with torch.no_grad():
        maps = torch.stack(bert(bert_ids([sequence]), output_attentions=True).attentions)[:, 0]
    for i, j in ((10, 150), (0, 199), (57, 58)):
        expected = ((maps[:, :, i + 1, j + 1] + maps[:, :, j + 1, i + 1]) / 2).numpy()
        got = pair_attention(ours, sequence, i, j)
        assert got.shape == (ours.config.num_hidden_layers, ours.config.num_attention_heads)
        np.testing.assert_allclose(got, expected, atol=1e-6, rtol=0)
    assert ours.config._attn_implementation == "sdpa"
    eager = load_masked_lm(checkpoint_510, attn_implementation="eager")
    np.testing.assert_allclose(pair_attention(eager, sequence, 10, 150), pair_attention(ours, sequence, 10, 150),
                               atol=1e-6, rtol=0)


def independent_window(pair, width=510):
    """Genomic start and indices of a pair's window: its midpoint at index width // 2 after
    orientation (slicing arithmetic, written out)."""
    mid = (pair.first + pair.second) // 2
    if pair.strand == "+":
        start = mid - width // 2
        return start, pair.first - start, pair.second - start
    start = mid - (width - 1 - width // 2)
    return start, start + width - 1 - pair.first, start + width - 1 - pair.second


def fitting(pairs, width=510):
    return [p for p in pairs if all(0 <= k < width for k in independent_window(p, width)[1:])]


def test_bedpe_reader_and_pair_windows(tmp_path):
    from collections import Counter

    from splicebert_plugin.analysis.attention import Skipped, pair_windows
    from splicebert_plugin.io.genome import Genome

    pairs = list(read_pairs(MANE))
    assert len(pairs) == 18 and {p.strand for p in pairs} == {"+", "-"}
    genome_text = read_fasta_text(FASTA)
    for pair in pairs:  # 0-based: each site is the G of a GT or AG of the intron
        assert genome_text[pair.first] in "GC" and genome_text[pair.second] in "GC"
    far = tmp_path / "far.bedpe"
    far.write_text("chr19\t100000\t100001\tchr19\t101000\t101001\tfar\t.\t+\t+\n"
                   "chr19\t50\t51\tchr19\t250\t251\tedge\t.\t-\t-\n"
                   "chrX\t300\t301\tchrX\t500\t501\telsewhere\t.\t+\t+\n")
    skipped = Skipped()
    with Genome(FASTA) as genome:
        items = [("intron", p) for p in pairs] + [("other", p) for p in read_pairs(far)]
        windows = list(pair_windows(genome, items, 510, skipped))
    fit = fitting(pairs)
    assert 10 < len(fit) < 18 and len(windows) == len(fit)  # some introns are longer than a window
    assert skipped.counts == Counter({"sites too far apart for one window": 18 - len(fit) + 1,
                                      "window past a contig end": 1, "contig not in the genome": 1})
    for window in windows:  # an independent derivation: slice, then reverse-complement for -
        pair = window.pair
        genomic = genome_text[window.start : window.start + 510]
        expected = genomic if pair.strand == "+" else revcomp(genomic)
        assert window.sequence == expected
        assert (window.start, window.i, window.j) == independent_window(pair)
        assert abs((window.i + window.j) / 2 - 255) <= 1  # centred between the two sites
    bad = tmp_path / "bad.bedpe"
    bad.write_text("chr19\t10\t11\tchr19\t20\t21\tx\t.\t+\t-\n")
    with pytest.raises(BedError, match="line 1.*share contig and strand"):
        list(read_pairs(bad))
    bad.write_text("chr19\tten\t11\n")
    with pytest.raises(BedError, match="line 1"):
        list(read_sites(bad))


# ---------------------------------------------------------------------------------------------- evaluation


def test_ap_and_auroc_equal_scikit_learn_and_bootstrap_is_sound():
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    scores = np.round(labels * 0.5 + rng.random(400), 2)  # informative, with ties
    result = evaluate(scores, labels, n_boot=300, seed=3)
    assert result.ap == pytest.approx(average_precision_score(labels, scores), abs=1e-12)
    assert result.auroc == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert result.ap_low <= result.ap <= result.ap_high and result.auroc_low <= result.auroc <= result.auroc_high
    assert result.ap_high - result.ap_low < 0.2
    assert evaluate(scores, labels, n_boot=300, seed=3) == result
    assert evaluate(scores, labels, n_boot=300, seed=4) != result
    with pytest.raises(ValueError, match="positive and negative"):
        evaluate([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="NaN"):
        evaluate([0.1, float("nan")], [1, 0])


# ---------------------------------------------------------------------------------------------- tools


def test_embed_command_writes_every_format_and_a_layer_report(tiny_510, tmp_path, capsys):
    import h5py
    import pandas as pd

    base = ["embed", "-m", str(tiny_510), "--sites", str(SITES), "-R", str(FASTA), "-q"]
    assert main(base + ["--layer", "all", "-O", str(tmp_path / "e.h5"), "--label-field", "0",
                        "--report", str(tmp_path / "layers.tsv")]) == 0
    assert main(base + ["--layer", "2", "-O", str(tmp_path / "e.npy")]) == 0
    assert main(base + ["--layer", "1,2", "--pool", "mean", "-O", str(tmp_path / "e.parquet")]) == 0
    names = [s.name for s in read_sites(SITES)]
    with h5py.File(tmp_path / "e.h5") as h5:
        assert [n.decode() for n in h5["names"][:]] == names and h5["layer_0"].shape == (140, 32)
        layer2 = h5["layer_2"][:]
    np.testing.assert_array_equal(np.load(tmp_path / "e.npy"), layer2)
    assert (tmp_path / "e.npy.names.tsv").read_text().splitlines()[1].split("\t")[0] == names[0]
    parquet = pd.read_parquet(tmp_path / "e.parquet")
    assert list(parquet["name"]) == names and len(parquet["layer_1"][0]) == 32
    # the center vector is the site's own embedding in its centred window
    from splicebert_plugin.analysis.embed_job import site_windows
    from splicebert_plugin.io.genome import Genome

    with Genome(FASTA) as genome:
        windows = [w for _, w in site_windows(genome, read_sites(SITES), 510, __import__("collections").Counter())]
    model = load_masked_lm(tiny_510)
    np.testing.assert_allclose(layer2[:3], embed(model, windows[:3], 2)[:, 255], atol=2e-5, rtol=0)
    report = pd.read_csv(tmp_path / "layers.tsv", sep="\t")
    assert list(report["layer"]) == list(range(3)) and (report["labels"] == 4).all()
    assert report["logistic_auroc"].between(0, 1).all()
    assert "need one vector per site" in cli_error(base + ["--pool", "none", "-O", str(tmp_path / "x.h5"),
                                                            "--report", str(tmp_path / "r.tsv")], capsys)
    assert "one layer" in cli_error(base + ["--layer", "all", "-O", str(tmp_path / "x.npy")], capsys)


@pytest.mark.slow
def test_embed_umap_picture(tiny_510, tmp_path):
    argv = ["embed", "-m", str(tiny_510), "--sites", str(SITES), "-R", str(FASTA), "-q", "--layer", "2",
            "-O", str(tmp_path / "e.npy"), "--label-field", "0", "--umap", str(tmp_path / "u.png")]
    assert main(argv) == 0
    assert (tmp_path / "u.png").read_bytes()[:4] == b"\x89PNG"


def test_attention_command_on_the_example_introns(tiny_510, tmp_path):
    import pandas as pd

    far = tmp_path / "far.bedpe"
    far.write_text("chr19\t100000\t100001\tchr19\t101000\t101001\tfar\t.\t+\t+\n")
    argv = ["attention", "-m", str(tiny_510), "-R", str(FASTA), "--pairs", f"{MANE}:intron", "--pairs", str(far),
            "-O", str(tmp_path / "pairs.tsv"), "--summary", str(tmp_path / "summary.tsv"),
            "--plot", str(tmp_path / "attention.png"), "-q", "--background", "5"]
    assert main(argv) == 0
    table = pd.read_csv(tmp_path / "pairs.tsv", sep="\t")
    fit = len(fitting(read_pairs(MANE)))
    assert len(table) == fit * 2 and set(table["group"]) == {"intron"}  # pairs x 2 layers; 'far' skipped
    model = load_masked_lm(tiny_510)
    row = table.iloc[0]
    from splicebert_plugin.analysis.attention import pair_window

    pair = next(p for p in read_pairs(MANE) if p.name == row["name"] and p.first == row["first"])
    start, i, j = pair_window(pair, 510)
    genomic = read_fasta_text(FASTA)[start : start + 510]
    window = genomic if pair.strand == "+" else revcomp(genomic)
    values = pair_attention(model, window, i, j)
    assert row["attention"] == pytest.approx(values[row["layer"] - 1].max(), abs=1e-6)
    assert row["head"] == int(values[row["layer"] - 1].argmax())
    summary = pd.read_csv(tmp_path / "summary.tsv", sep="\t")
    first = summary[(summary.group == "intron") & (summary.layer == 1)].iloc[0]
    assert first["pairs"] == fit
    assert first["mean"] == pytest.approx(table[table.layer == 1]["attention"].mean())
    assert first["ratio_to_background"] == pytest.approx(first["mean"] / first["background_mean"])
    assert (tmp_path / "attention.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_command_joins_counts_and_compares_with_the_baseline(tiny_510, tmp_path, capsys):
    import pandas as pd

    table = tmp_path / "scored.tsv"
    assert main(["score", "--example", "-m", str(tiny_510), "-O", str(tmp_path / "o.vcf"), "--table", str(table),
                 "-q"]) == 0
    scored = pd.read_csv(table, sep="\t")
    labels = tmp_path / "labels.tsv"
    ids = scored["ID"].drop_duplicates().tolist()
    positive = {"donor_MADCAM1_ex1", "acceptor_CDC34_ex2", "donor_MIER2", "wrong_ref"}
    rows = [f"{i}\t{int(i in positive)}" for i in ids] + ["not_in_the_table\t0"]
    labels.write_text("ID\tLABEL\n" + "\n".join(rows) + "\n")
    capsys.readouterr()
    assert main(["evaluate", "--table", str(table), "--labels", str(labels), "-O", str(tmp_path / "m.json"),
                 "--plot", str(tmp_path / "pr.png"), "--bootstrap", "50"]) == 0
    out = capsys.readouterr().out
    result = json.loads((tmp_path / "m.json").read_text())
    # unscored: the 3 records with a reason, the symbolic ALT's record, and the label without a row
    assert result["labelled"] == 13 and result["unscored"] == 5 and result["unscored_positives"] == 1
    assert result["joined_on"] == ["ID"] and "5 without a score" in out
    ev = result["results"]["KL_CONTEXT"]
    assert ev["n"] == 8 and ev["positives"] == 3
    kept = scored[scored.KL_CONTEXT.notna()].groupby("ID", sort=False)["KL_CONTEXT"].max()
    from sklearn.metrics import average_precision_score

    expected = average_precision_score([int(i in positive) for i in kept.index], kept.values)
    assert ev["ap"] == pytest.approx(expected, abs=1e-12)
    assert (tmp_path / "pr.png").read_bytes()[:4] == b"\x89PNG"
    # the distance baseline needs positions: join on CHROM/POS/REF/ALT
    vcf = [line.split("\t") for line in VCF.read_text().splitlines() if not line.startswith("#")]
    key_labels = tmp_path / "key.tsv"
    key_labels.write_text("CHROM\tPOS\tREF\tALT\tLABEL\n" + "".join(
        f"chr{f[0]}\t{f[1]}\t{f[3]}\t{f[4].split(',')[0]}\t{int(f[2] in positive)}\n" for f in vcf))
    assert main(["evaluate", "--table", str(table), "--labels", str(key_labels), "-A", str(GENES),
                 "--bootstrap", "50", "-O", str(tmp_path / "m.tsv")]) == 0
    numbers = pd.read_csv(tmp_path / "m.tsv", sep="\t").set_index("score")
    assert set(numbers.index) == {"KL_CONTEXT", "distance_to_splice_site"}
    assert numbers.loc["distance_to_splice_site", "ap"] == 1.0  # the positives sit on splice sites
    assert "LABEL" in cli_error(["evaluate", "--table", str(table), "--labels", str(table)], capsys)


def test_spliceai_top_k_accuracy_and_per_class_metrics():
    """Top-k accuracy by hand and by brute force over tie orders; PR-AUC against sklearn."""
    import itertools

    from sklearn.metrics import average_precision_score

    from splicebert_plugin.analysis.metrics import per_nucleotide_splice_metrics, top_k_accuracy

    # 3 positives; the 3 highest scores hold 2 of them
    assert top_k_accuracy([1, 0, 1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1, 0.05, 0.0]) == pytest.approx(2 / 3)
    assert np.isnan(top_k_accuracy([0, 0], [0.1, 0.2]))
    # ties at the k-th score: the mean over every order of the tied items
    labels, scores = np.array([1, 0, 1, 0, 0]), np.array([0.9, 0.5, 0.5, 0.5, 0.1])
    outcomes = []
    for order in itertools.permutations([1, 2, 3]):
        ranked = [0, *order, 4]
        outcomes.append(labels[ranked[:2]].mean())
    assert top_k_accuracy(labels, scores) == pytest.approx(np.mean(outcomes))

    rng = np.random.default_rng(0)
    classes = rng.choice(3, size=400, p=[0.9, 0.05, 0.05])
    logits = rng.normal(size=(400, 3)) + 2.0 * np.eye(3)[classes]
    probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    result = per_nucleotide_splice_metrics(classes, probabilities)
    assert set(result) == {"acceptor", "donor"}
    for index, name in ((1, "acceptor"), (2, "donor")):
        assert result[name]["sites"] == int((classes == index).sum())
        assert result[name]["pr_auc"] == pytest.approx(average_precision_score(classes == index,
                                                                               probabilities[:, index]))
        order = np.argsort(-probabilities[:, index])[: result[name]["sites"]]
        assert result[name]["top_k_accuracy"] == pytest.approx((classes[order] == index).mean())
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        per_nucleotide_splice_metrics(classes, probabilities[:, :2])
