"""Model cards (``README.md``) for converted folders and the ``hub_models/`` release folders."""

from __future__ import annotations

from ..sources.releases import RELEASED_MODELS, ReleasedModel

CITATION = """\
@article{chen2024splicebert,
  title   = {Self-supervised learning on millions of primary RNA sequences from 72 vertebrates
             improves sequence-based RNA splicing prediction},
  author  = {Chen, Ken and Zhou, Yue and Ding, Maolin and Wang, Yu and Ren, Zhixiang and Yang, Yuedong},
  journal = {Briefings in Bioinformatics},
  volume  = {25},
  number  = {3},
  pages   = {bbae163},
  year    = {2024},
  doi     = {10.1093/bib/bbae163}
}"""


def _architecture(config) -> str:
    return (
        f"BERT encoder, {config.num_hidden_layers} layers, hidden size {config.hidden_size}, "
        f"{config.num_attention_heads} heads, FFN {config.intermediate_size}, "
        f"{config.max_position_embeddings} positions, 10-token nucleotide vocabulary "
        "(`[PAD] [UNK] [CLS] [SEP] [MASK] N A C G T`), masked-LM head tied to the embeddings."
    )


def _loading(folder: str) -> str:
    return f"""\
```python
# with the package (pip install splicebert-plugin): no remote code needed
import splicebert_plugin
from transformers import AutoModelForMaskedLM, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("{folder}")
model = AutoModelForMaskedLM.from_pretrained("{folder}")
inputs = tokenizer("ACGUacgtNR", return_tensors="pt")   # any case, U = T, IUPAC codes = N
logits = model(**inputs).logits                         # (1, 12, 10)

# without the package: the folder carries its own model code
model = AutoModelForMaskedLM.from_pretrained("{folder}", trust_remote_code=True)
```"""


FRONT_MATTER = """\
---
license: bsd-3-clause
library_name: transformers
tags:
  - biology
  - rna
  - splicing
  - masked-language-modeling
---
"""


def card_for_release(release: ReleasedModel, config) -> str:
    """Model card of a ``hub_models/<name>`` folder (everything but the weights)."""
    return FRONT_MATTER + f"""\

# {release.name}

{release.summary} A BERT language model of primary RNA sequence from SpliceBERT (Chen et al.,
Briefings in Bioinformatics 2024), packaged by splicebert-plugin as a standard Hugging Face model.

**Weights are not in this folder.** One command fetches the authors' release (Zenodo record
7995778, checked against its published checksums) and writes this folder with
`model.safetensors` into the splicebert-plugin cache; a copy you already have converts the same way:

```bash
splicebert download {release.name}                                      # or: -m {release.name} on first use
splicebert convert path/to/{release.name} path/to/{release.name}-hf      # a local copy of the release
```

## Model
- Architecture: {_architecture(config)}
- Input: {release.window}. One token per nucleotide between `[CLS]` and `[SEP]`.
- Training data: {release.training_data}

## Intended use
Zero-shot scoring of the splicing impact of variants (KL-context score), nucleotide embeddings
and attention maps for splicing analyses, and fine-tuning for branchpoint and splice-site
prediction. Not a clinical tool; scores are research evidence only.

## How to load
{_loading(release.name)}

## Citation
```bibtex
{CITATION}
```

## Licence
BSD-3-Clause, as the original release (Copyright (c) 2023 Ken Chen). The packaging code is
BSD-3-Clause too.
"""


def card_for_converted(source_name: str, config, *, origin: str) -> str:
    """Model card of a folder written by ``splicebert convert``."""
    release = next((r for r in RELEASED_MODELS if r.name == source_name), None)
    if release is not None:
        return card_for_release(release, config)
    return FRONT_MATTER + f"""\

# {source_name}

A SpliceBERT-architecture model converted from {origin} (folder `{source_name}`) by
splicebert-plugin. What it was trained on is not recorded in the checkpoint: state it here.

## Model
- Architecture: {_architecture(config)}

## How to load
{_loading(source_name)}

## Citation
```bibtex
{CITATION}
```
"""


def card_for_demo(config, training: dict, evaluation: dict, corpus_meta: dict) -> str:
    """Model card of the bundled demo model, from its training summary and evaluation."""
    last = training.get("last_eval", {})
    train_cfg = training.get("config", {})
    species = ", ".join(
        f"{name} ({stats['sequences']} seq, {stats['nucleotides']:,} nt, N {stats['n_fraction']:.1%})"
        for name, stats in corpus_meta["summary"].items()
    )
    e = evaluation
    beats_kmer = e["model_masked_ce_acgt"] < e["kmer_2plus2_masked_ce"]
    sites_better = e["model_accuracy_at_splice_sites"] > e["model_accuracy_at_other_gt_ag"]
    if beats_kmer and sites_better:
        verdict = ("It has learnt more than short k-mer statistics: lower masked cross-entropy than the 2 + 2 "
                   "k-mer count model and higher accuracy at annotated splice-site dinucleotides than at other GT/AG.")
    else:
        misses = []
        if not beats_kmer:
            misses.append("its masked cross-entropy is not below the 2 + 2 k-mer count model's")
        if not sites_better:
            misses.append("its accuracy at annotated splice-site dinucleotides is not above that at other GT/AG")
        verdict = ("**It has not yet learnt more than short k-mer statistics**: " + " and ".join(misses) +
                   ". It beats the unigram model and runs the whole pipeline, but its scores carry little "
                   "splicing information. On this corpus its validation loss had levelled off, so more data "
                   "and compute (the stage-1 recipe on GPUs), not more CPU steps, are what it lacks.")
    return FRONT_MATTER + f"""\

# splicebert-plugin demo model

**A demonstration model, not the paper's weights.** A small model with SpliceBERT's architecture,
vocabulary and code, pretrained by this project's own pipeline on a 2-core CPU so that the package
has a real, trained default for its examples and tests. Use the released SpliceBERT weights
(`splicebert convert`) for research.

## Model
- Architecture: {_architecture(config)}
- Parameters: about {sum_parameters(config) / 1e6:.2f} M.

## Training
- Corpus: {corpus_meta['sequences']} sequences, {corpus_meta['nucleotides']:,} nt; primary transcripts
  (exons + introns, overlapping transcripts merged, transcript strand) of the human genes inside the
  hg19 chr3 and chr19 pieces and the hg38 chr16 (alpha-globin) and chr22 pieces, plus the orthologous
  alpha-globin regions of 7 vertebrates as plain sequences. Per species: {species}.
  {corpus_meta['validation_sequences']} sequences held out for validation. The hg19 chr4 and chr5
  pieces are not in the corpus at all (the human evaluation set below).
- Recipe: stage 1 only, fixed {train_cfg.get('min_length')}-nt windows, masked LM (15 %; 80/10/10 with
  A/C/G/T replacements), AdamW lr {train_cfg.get('learning_rate')}, {train_cfg.get('max_steps')} steps of
  {train_cfg.get('batch_size')} windows, warm-up {train_cfg.get('warmup_steps')}, LR halved after
  {train_cfg.get('plateau_patience')} evaluations without improvement (every {train_cfg.get('eval_every')} steps,
  {train_cfg.get('val_windows', 1)} windows per validation sequence), dropout {train_cfg.get('dropout', 0.1)}
  (the config keeps it: set `hidden_dropout_prob` for fine-tuning if wanted). Reproduce with
  `python training/make_demo_model.py --install` (the shared genome pieces are needed).
- Final validation (corpus hold-out, {int(last.get('val_tokens', 0))} masked tokens): masked cross-entropy
  {last.get('val_loss', float('nan')):.3f} nats, masked-nucleotide accuracy {last.get('val_accuracy', float('nan')):.3f}.

## Evaluation on held-out human sequence
`python training/evaluate_demo.py`: every position of every exon +-100 nt of the {e['positions']:,}
positions in the held-out genes (hg19 chr4 and chr5 pieces), masked one in ten at a time.

| predictor | masked cross-entropy (nats, A/C/G/T) | accuracy |
|---|---|---|
| this model | {e['model_masked_ce_acgt']:.3f} | {e['model_accuracy']:.3f} |
| bidirectional k-mer counts (2 + 2 neighbours), same training sequences | {e['kmer_2plus2_masked_ce']:.3f} | {e['kmer_accuracy']:.3f} |
| unigram | {e['unigram_masked_ce']:.3f} | |

Masked-prediction accuracy at annotated splice-site dinucleotides (donor GT, acceptor AG;
{e['splice_site_dinucleotide_positions']} positions) against other GT/AG in the same regions
({e['other_gt_ag_positions']} positions): this model {e['model_accuracy_at_splice_sites']:.3f} vs
{e['model_accuracy_at_other_gt_ag']:.3f}; the k-mer model {e['kmer_accuracy_at_splice_sites']:.3f} vs
{e['kmer_accuracy_at_other_gt_ag']:.3f}.

{verdict}

## Citation
```bibtex
{CITATION}
```
"""


def sum_parameters(config) -> int:
    """Parameter count of a SpliceBertForMaskedLM with this config (decoder tied)."""
    h, f, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    embeddings = (config.vocab_size + config.max_position_embeddings + config.type_vocab_size) * h + 2 * h
    layer = 4 * (h * h + h) + 2 * h + (h * f + f) + (f * h + h) + 2 * h
    head = h * h + h + 2 * h + config.vocab_size
    return embeddings + layers * layer + head


GENEBERT_CITATION = """\
@inproceedings{mo2021genebert,
  title     = {Multi-modal Self-supervised Pre-training for Large-scale Genome Data},
  author    = {Mo, Shentong and Fu, Xi and Hong, Chenyang and Chen, Yizhen and Zheng, Yuxuan and Tang, Xiangru
               and Shen, Zhiqiang and Xing, Eric P and Lan, Yanyan},
  booktitle = {NeurIPS 2021 Workshop on AI for Science (GeneBERT)},
  year      = {2021}
}"""


def card_for_genebert(preset: str, config) -> str:
    """Model card of a ``hub_models/GeneBERT-<preset>`` folder (architecture only: no weights)."""
    swin = config.region_config
    layout = ("the matrix resized to {0} x {0} by antialiased bilinear resampling (every motif column "
              "reaches the image) and repeated over {1} channels".format(
        config.image_size, swin.get("num_channels")) if config.region_layout == "image"
        else f"the {config.num_regions} x {config.num_tfs} matrix as a 1-channel image")
    return """---
license: bsd-3-clause
library_name: transformers
tags:
  - biology
  - dna
  - multimodal
  - chromatin-accessibility
---

# GeneBERT-{preset}

The architecture of GeneBERT (Mo et al. 2021) as implemented by splicebert-plugin: a k-mer BERT
over DNA and a Swin transformer over a (regions x transcription factors) motif matrix, tied by a
sequence-region matching loss, `L = L_mlm + L_nsp + {weight} L_srm`. No public implementation
exists; where the paper is silent the choices are this implementation's (listed below).
**This folder holds no weights**: it is the `{preset}` preset, for training (`splicebert-plugin`
training recipes) or for loading weights you trained.

## Model
- Text encoder: BERT, {layers} layers, hidden {hidden}, {heads} heads, FFN {ffn}, {positions} positions;
  overlapping {k}-mers in DNABERT's vocabulary ({vocab} tokens), BERT parameter names (DNABERT
  `BertForMaskedLM` weights load by name).
- Region encoder: transformers' Swin (patch {patch}, window {window}, depths {depths}, embed {embed}) on
  {layout}.
- Matching: `{kind}` loss on cosine similarities of {dim}-d projections, learnt temperature
  (initial {tau}); sequence embedding by {pooling} pooling.
- Sample: {regions} consecutive regions x {bp} bp; motif matrix values: `{values}`.

## What is the paper's and what is ours
The paper's printed Eq. (1) is a constant (`log b`, zero gradient): `clip` (symmetric InfoNCE, what
its prose describes) is the default, `eq1` (the formula with the index fixed) is offered. k, model
sizes, Swin variant and input layout, matrix values, pooling, projections and temperature are not
stated in the paper and are this implementation's choices (see the project's `docs/genebert.md`).

Paper-scale settings the training recipe offers (none of them was run at the paper's scale here):
the Swin can start from ImageNet weights (`region_init: <Swin-T folder or Hub id>`, with ImageNet's
input normalisation); the matching loss spans the whole optimiser batch across gradient
accumulation and processes (`srm_batch: optimizer`, cached embeddings: equal to one large batch,
tested), so `batch_size` x `gradient_accumulation_steps` x processes = 2,000 gives the paper's
negatives. Still different from the paper: a sample shows {bp} bp of each of its {regions}
regions (the paper's whole ~500-bp peaks do not fit 512 positions).

## How to load
```python
import splicebert_plugin                            # registers GeneBERT with the Auto classes
from transformers import AutoConfig, AutoModelForPreTraining, AutoTokenizer

config = AutoConfig.from_pretrained("GeneBERT-{preset}")
model = AutoModelForPreTraining.from_config(config)                    # or from_pretrained(trained_folder)
tokenizer = AutoTokenizer.from_pretrained("GeneBERT-{preset}")          # raw DNA is cut into {k}-mers
# without the package: trust_remote_code=True
```

## Citation
```bibtex
{citation}
```

## Licence
BSD-3-Clause (the implementation). Motif data (JASPAR) keep their own licence.
""".format(preset=preset, weight=config.srm_weight, layers=config.num_hidden_layers, hidden=config.hidden_size,
           heads=config.num_attention_heads, ffn=config.intermediate_size, positions=config.max_position_embeddings,
           k=config.kmer, vocab=config.vocab_size, patch=swin.get("patch_size"), window=swin.get("window_size"),
           depths=swin.get("depths"), embed=swin.get("embed_dim"), layout=layout, kind=config.srm_loss,
           dim=config.srm_dim or config.hidden_size, tau=config.srm_temperature_init, pooling=config.seq_pooling,
           regions=config.num_regions, bp=config.region_bp, values=config.region_values, citation=GENEBERT_CITATION)


def _genebert_evaluation_text(evaluation: dict | None) -> str:
    if not evaluation:
        return ("(not measured: run `python training/genebert/evaluate_pretraining.py MODEL --corpus=...`)\n")
    base = evaluation.get("baseline", {})
    lines = [
        "| measure | value |", "|---|---|",
        f"| MLM loss per masked 6-mer | {evaluation['val_mlm_loss']:.3f} |",
        f"| MLM accuracy at `[MASK]` inputs | {evaluation['val_mlm_mask_accuracy']:.4f} |",
        f"| next-sequence accuracy | {evaluation['val_nsp_accuracy']:.3f} |",
        f"| in-batch retrieval R@1 (chance) | {evaluation['val_r_at_1']:.3f} ({evaluation['val_r_at_1_chance']:.3f}) |",
    ]
    if base:
        lines.append(f"| GC-only retrieval R@1, same batches | {base['gc_r_at_1']:.3f} |")
    return "\n".join(lines) + "\n"


def card_for_genebert_demo(summary: dict, arms: dict, results: str | None, evaluation: dict | None = None) -> str:
    """Model card of the bundled GeneBERT demo model, from its ``training_summary.json``, the
    last evaluations of every pretraining arm (``{arm: last_eval}``), the promoter results and
    splice-site tables (markdown) when they have been computed, and the final model's
    evaluation (``evaluate_pretrained``: accuracy at ``[MASK]`` inputs, GC-only retrieval)."""
    config, corpus = summary["config"], summary["corpus"]
    rows = ["| step | val MLM loss | val NSP loss | val SRM loss | R@1 (chance) |", "|---|---|---|---|---|"]
    for entry in summary["history"]:
        rows.append(f"| {entry['step']} | {entry['val_mlm_loss']:.3f} | {entry['val_nsp_loss']:.3f} | "
                    f"{entry['val_srm_loss']:.3f} | {entry['val_r_at_1']:.3f} ({entry['val_r_at_1_chance']:.3f}) |")
    arm_rows = ["| arm | val MLM loss | val NSP loss | val SRM loss |", "|---|---|---|---|"]
    for arm, last in arms.items():
        cells = [f"{last[key]:.3f}" if key in last else "-" for key in ("val_mlm_loss", "val_nsp_loss", "val_srm_loss")]
        arm_rows.append(f"| {arm} | " + " | ".join(cells) + " |")
    downstream = results or "(not computed: run `python training/genebert/evaluate_demo.py --work ...`)\n"
    return f"""---
license: bsd-3-clause
library_name: transformers
tags:
  - biology
  - dna
  - multimodal
---

# splicebert-plugin GeneBERT demo model

**A demonstration model, not the paper's.** GeneBERT's architecture at the `demo` preset (a 4 x 128
k-mer BERT and a small Swin over a 10 x {corpus['motifs']} motif matrix),
pretrained by this project's recipe on a 2-core CPU on label-free regions of a few megabases of
human sequence, so that the package has a real, trained GeneBERT for its examples and tests.

## Training
- Corpus: {corpus['regions']:,} regions ({', '.join(corpus['tracks'])}: CpG islands and 50-nt tiles computed from
  the sequence of the hg19 pieces chr3:42-44 Mb, chr4:103-105 Mb, chr5:124-126 Mb, chr19:0-1.5 Mb and
  the hg38 pieces chr16 (alpha-globin) and chr22:32.0-32.3 Mb); {corpus['motifs']} motifs of
  {corpus['jaspar']} CORE vertebrates at p < 5e-5, matrix values `{config['values']}`. No region overlaps a
  promoter evaluation window (positive or negative) or 500 nt around it.
- Samples: {summary['samples']['train']:,} training and {summary['samples']['validation']:,} validation samples of 10
  consecutive regions.
- Recipe: lambda {config['srm_weight']}, `{config['srm_loss']}` matching loss, span masking
  {config['mask_fraction']} then {config['mask_fraction_after']} from step {config['mask_switch_step']}, AdamW
  lr {config['learning_rate']} ({config['lr_schedule']} schedule, warm-up {config['warmup_steps']}), {config['max_steps']} steps
  of {config['batch_size']} samples. Reproduce with `python training/genebert/make_demo_model.py --data ... --install`.

## Validation during pretraining
{chr(10).join(rows)}

The arms of the ablation, same data and steps (last evaluation):

{chr(10).join(arm_rows)}

## What the final model does on the validation split
Measured with `python training/genebert/evaluate_pretraining.py MODEL --corpus=CORPUS` (the
run's split, values and masking). MLM accuracy counts only positions whose input is `[MASK]`:
at the 10 % of masked positions that keep their k-mer a model scores by copying its input, and
that copying dominates an accuracy over every masked position. Chance for a 6-mer is 1/4,096 = 0.0002.
The GC-only baseline retrieves, in the same batches, the matrix whose GC profile (predicted from
the matrix by a ridge regression fitted on training samples) is nearest to the sequence's: the
matrix values are a function of the DNA, so composition alone can match them.

{_genebert_evaluation_text(evaluation)}
## Downstream (fine-tuned)
Promoter cores (70 nt around annotated TSSs against each negative set, leave one contig out, 3
seeds) and splice sites (donor or acceptor windows against as many decoys, 5 folds grouped by
gene, 1 seed). Each cell: mean over seeds (95 % bootstrap interval over examples).

{downstream}
## Limits
One track per source and no cell types: nothing here tests the paper's cell-type claims. The Swin
starts from random weights (no ImageNet), the scale is thousands of times smaller than the
paper's, and the labelled set is about 105 promoters: only differences between the arms at equal
budget, with their intervals, mean anything here. Promoter windows were cut out of the
pretraining corpus; splice-site windows were not (their sequence, never their labels, was seen).
"""
