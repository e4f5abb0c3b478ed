"""Fine-tuning with cross-validation (docs/training.md), for `accelerate launch` or python.

Branchpoints (token classification, chromosome folds, average precision):

    accelerate launch --config_file training/accelerate/1gpu.yaml training/finetune.py branchpoints \
        --config training/configs/branchpoints.yaml \
        --bed=mercer_dataset.hg19.bed.gz --genome=hg19.fa --model=path/to/SpliceBERT.510nt --output_dir=runs/bp

Splice sites (donor/acceptor vs GT/AG decoys, sequence classification, k folds of loci, F1 + AUROC):

    accelerate launch --config_file training/accelerate/1gpu.yaml training/finetune.py splice_sites \
        --config training/configs/splice_sites.yaml \
        --genome=hg19.fa --annotation=gencode.gtf.gz --model=path/to/SpliceBERT.510nt --output_dir=runs/ss

Splice sites per nucleotide, SpliceAI's formulation (acceptor / donor / neither at every nucleotide
of the annotated loci, blocks with 80, 400 or 2,000 nt of context as the model's positions allow,
top-k accuracy and PR-AUC per class), from either model family:

    accelerate launch training/finetune.py splice_nucleotides --config training/configs/splice_nucleotides.yaml \
        --genome=hg19.fa --annotation=gencode.gtf.gz --context=400 --model=path/to/SpliceBERT.510nt --output_dir=runs/sn

Promoter cores (TSS -34..+35 vs GC-matched genomic or DeePromoter negatives, leave one contig out)
and TFBS peaks (vs dinucleotide shuffles), from a GeneBERT folder or any SpliceBERT model:

    accelerate launch training/finetune.py promoters --genome=pieces.fa --annotation=genes.tsv \
        --negatives=genomic --model=runs/genebert_demo/pretrain_genebert/final --output_dir=runs/prom
    accelerate launch training/finetune.py tfbs --peaks=ctcf.bed --genome=hg19.fa --model=... --output_dir=runs/tfbs

Any config key can be overridden with --key=value (--init=random: the model's architecture with
new weights, the no-pretraining control). Writes predictions_*.tsv and summary.json
into output_dir and prints the test metrics.
"""

import argparse
import json
import sys

from splicebert_plugin.training.config import ConfigError, load_config
from splicebert_plugin.training.finetune.engine import (BranchpointConfig, SpliceSiteConfig, finetune_branchpoints,
                                                 finetune_splice_sites)
from splicebert_plugin.training.finetune.promoter_tasks import (PromoterConfig, TfbsConfig, finetune_promoters,
                                                           finetune_tfbs)
from splicebert_plugin.training.finetune.splice_nucleotides import (SpliceNucleotideConfig,
                                                               finetune_splice_nucleotides)

TASKS = {"branchpoints": (BranchpointConfig, finetune_branchpoints),
         "splice_sites": (SpliceSiteConfig, finetune_splice_sites),
         "splice_nucleotides": (SpliceNucleotideConfig, finetune_splice_nucleotides),
         "promoters": (PromoterConfig, finetune_promoters),
         "tfbs": (TfbsConfig, finetune_tfbs)}


def _headline(summary: dict) -> dict:
    return {name: {"mean": group["mean"], "pooled": group["pooled"], "pooled_baseline": group["pooled_baseline"]}
            for name, group in summary["groups"].items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=sorted(TASKS))
    parser.add_argument("--config", help="YAML file (training/configs/*.yaml)")
    args, overrides = parser.parse_known_args(argv)
    config_class, run = TASKS[args.task]
    try:
        summary = run(load_config(config_class, args.config, overrides))
    except (ConfigError, ValueError, FileNotFoundError) as error:
        print(f"finetune {args.task}: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(_headline(summary), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
