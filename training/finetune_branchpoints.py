"""Branchpoint fine-tuning with chromosome cross-validation (ALGORITHMS.md section 4).

    python training/finetune_branchpoints.py --config training/configs/branchpoints.yaml \
        --bed=mercer_dataset.hg19.bed.gz --genome=hg19.fa --model=path/to/SpliceBERT.510nt --output_dir=runs/bp

Writes runs/bp/predictions_fold*.tsv and runs/bp/summary.json (AP per fold and pooled).
"""

import argparse
import json
import sys

from splicebert_plugin.training.config import ConfigError, load_config
from splicebert_plugin.training.finetune import BranchpointConfig, finetune_branchpoints


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="YAML file")
    args, overrides = parser.parse_known_args(argv)
    try:
        config = load_config(BranchpointConfig, args.config, overrides)
        summary = finetune_branchpoints(config)
    except (ConfigError, ValueError, FileNotFoundError) as error:
        print(f"finetune_branchpoints: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps({k: v["test_ap"] for k, v in summary["folds"].items()} | {"pooled": summary["pooled_test_ap"]},
                     indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
