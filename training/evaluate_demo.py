"""Evaluate a model on held-out human sequence against count baselines (the demo model card's numbers).

    python training/evaluate_demo.py --model runs/demo/pretrain/final --corpus runs/demo/corpus \
        --data path/to/data --out runs/demo/evaluation.json

``--data`` is the project's data bundle (as for make_demo_model.py).

Held-out set: the genes of the hg19 chr4 and chr5 pieces (never in the demo corpus). Every
position of every exon +-100 nt (transcript strand) is masked once (10 passes per window, every
10th position masked, so no masked position has a masked neighbour within 2 nt) and predicted:

* masked cross-entropy (nats) of the model, over A/C/G/T renormalised (and over all tokens),
  against a bidirectional 2+2 k-mer count model and a unigram model fitted on the corpus's
  training split;
* masked-prediction accuracy at annotated splice-site dinucleotides (donor GT, acceptor AG)
  against other GT/AG dinucleotides of the same regions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from splicebert_plugin.training.genome_pieces import (
    HOLD_OUT,
    piece_offset,
    read_piece,
    table_rows,
)

WIDTH, CONTEXT, STRIDE = 510, 100, 10


def held_out_genes(genome: Path):
    rows = table_rows(genome / "hg19_pieces/spliceai_grch37_genes_inside_pieces.tsv")
    for piece in HOLD_OUT:
        _, sequence = read_piece(genome / "hg19_pieces" / piece)
        for row in (r for r in rows if Path(r[7]).name == piece):
            offset = piece_offset([row])
            starts = [int(x) - offset for x in row[5].split(",") if x]
            ends = [int(x) - offset for x in row[6].split(",") if x]
            yield row[0], row[2], sequence.upper(), sorted(zip(starts, ends))


def regions_of_gene(strand: str, exons, length: int):
    """Transcript-oriented (region_start, region_end) of exons +-100 and the annotated site positions."""
    def orient(p):
        return p if strand == "+" else length - 1 - p

    regions, sites = [], set()
    for i, (start, end) in enumerate(exons):
        lo, hi = max(0, start - CONTEXT), min(length, end + CONTEXT)
        a, b = sorted((orient(lo), orient(hi - 1)))
        regions.append((a, b + 1))
        if i > 0:  # genomic-left intron boundary: bases start-2, start-1
            sites.update(orient(p) for p in (start - 2, start - 1))
        if i < len(exons) - 1:  # genomic-right: bases end, end+1
            sites.update(orient(p) for p in (end, end + 1))
    return regions, sites


def main(argv=None) -> int:
    from splicebert_plugin.splicebert import tokenization
    from splicebert_plugin.checkpoints import load_masked_lm
    from splicebert_plugin.training.baselines import KmerModel, bases
    from splicebert_plugin.training.splicebert.corpus import TRAIN, TokenCorpus
    from splicebert_plugin.scoring.windows import reverse_complement

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--data", required=True, help="the data bundle (with genome/hg19_pieces)")
    parser.add_argument("--out")
    parser.add_argument("--write-card", action="store_true", help="write README.md (the model card) into --model")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)

    corpus = TokenCorpus(args.corpus)
    kmer = KmerModel(flank=2).fit(corpus.window(int(i), 0, 10**12) for i in corpus.split(TRAIN))
    unigram = kmer.unigram_probabilities()
    model = load_masked_lm(args.model).eval()

    records = []  # (true base 0..3, model p4, model full-vocab nll, kmer p4 or None, is_site, dinucleotide kind)
    for name, strand, genome, exons in held_out_genes(Path(args.data) / "genome"):
        lo = max(0, exons[0][0] - WIDTH)
        hi = min(len(genome), exons[-1][1] + WIDTH)
        local = [(s - lo, e - lo) for s, e in exons]
        sequence = genome[lo:hi] if strand == "+" else reverse_complement(genome[lo:hi])
        ids = tokenization.encode(sequence, add_special_tokens=False)
        kmer_positions, kmer_probs = kmer.probabilities(ids)
        kmer_at = dict(zip(kmer_positions.tolist(), kmer_probs))
        regions, sites = regions_of_gene(strand, local, len(sequence))
        scored = sorted({p for a, b in regions for p in range(a, b)})
        runs, start = [], 0  # contiguous runs of scored positions, cut into window-sized chunks
        for k in range(1, len(scored) + 1):
            if k == len(scored) or scored[k] != scored[k - 1] + 1:
                runs.append(scored[start:k])
                start = k
        chunks = [run[i : i + WIDTH - 2 * CONTEXT] for run in runs for i in range(0, len(run), WIDTH - 2 * CONTEXT)]
        for chunk in chunks:
            centre = (chunk[0] + chunk[-1]) // 2
            w0 = min(max(0, centre - WIDTH // 2), max(0, len(sequence) - WIDTH))
            window = ids[w0 : w0 + WIDTH]
            batch = []
            for k in range(STRIDE):
                masked = np.concatenate([[tokenization.CLS_ID], window, [tokenization.SEP_ID]])
                masked[1 + np.arange(k, len(window), STRIDE)] = tokenization.MASK_ID
                batch.append(masked)
            with torch.inference_mode():
                logits = model(input_ids=torch.from_numpy(np.stack(batch)), output_hidden_states=False).logits.double()
            for p in chunk:
                i = p - w0
                if not 0 <= i < len(window):
                    continue
                base = bases(window[i : i + 1])[0]
                if base < 0:
                    continue
                row = logits[i % STRIDE, i + 1]
                p4 = torch.softmax(row[6:10], -1).numpy()
                nll_full = -torch.log_softmax(row, -1)[6 + base].item()
                pair = sequence[p : p + 2] if p + 1 < len(sequence) else ""
                prev = sequence[p - 1 : p + 1] if p > 0 else ""
                kind = "GT" if pair == "GT" or prev == "GT" else ("AG" if pair == "AG" or prev == "AG" else "")
                records.append((base, p4, nll_full, kmer_at.get(p), p in sites, kind))

    true = np.array([r[0] for r in records])
    p_model = np.stack([r[1] for r in records])
    have_kmer = np.array([r[3] is not None for r in records])
    p_kmer = np.stack([r[3] if r[3] is not None else unigram for r in records])
    nll = lambda probs, mask: float(-np.mean(np.log(probs[mask, true[mask]])))
    site = np.array([r[4] for r in records])
    kind = np.array([r[5] for r in records])
    dinuc = kind != ""
    acc = lambda probs, mask: float(np.mean(probs[mask].argmax(1) == true[mask]))
    result = {
        "positions": len(records),
        "positions_with_kmer_context": int(have_kmer.sum()),
        "model_masked_ce_acgt": nll(p_model, have_kmer),
        "model_masked_ce_full_vocab": float(np.mean([r[2] for r, k in zip(records, have_kmer) if k])),
        "kmer_2plus2_masked_ce": nll(p_kmer, have_kmer),
        "unigram_masked_ce": nll(np.tile(unigram, (len(true), 1)), have_kmer),
        "model_accuracy": acc(p_model, have_kmer),
        "kmer_accuracy": acc(p_kmer, have_kmer),
        "splice_site_dinucleotide_positions": int((site & dinuc).sum()),
        "other_gt_ag_positions": int((~site & dinuc).sum()),
        "model_accuracy_at_splice_sites": acc(p_model, site & dinuc),
        "model_accuracy_at_other_gt_ag": acc(p_model, ~site & dinuc),
        "kmer_accuracy_at_splice_sites": acc(p_kmer, site & dinuc & have_kmer),
        "kmer_accuracy_at_other_gt_ag": acc(p_kmer, ~site & dinuc & have_kmer),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    if args.write_card:
        from splicebert_plugin.checkpoints.model_cards import card_for_demo

        training = json.loads((Path(args.model) / "training_summary.json").read_text())
        (Path(args.model) / "evaluation.json").write_text(text + "\n")
        card = card_for_demo(model.config, training, result, corpus.meta)
        (Path(args.model) / "README.md").write_text(card)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
