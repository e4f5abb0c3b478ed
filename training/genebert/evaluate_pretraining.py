"""Evaluate a pretrained GeneBERT folder on its corpus's validation split, with a GC-only baseline.

    python training/genebert/evaluate_pretraining.py MODEL --corpus=corpus/ [--key=value ...] [--json out.json]

The split, matrix values, batch size and masking rate come from MODEL/training_summary.json
(the run's config) unless overridden with --key=value (any pretraining config key). Prints the
validation MLM loss and accuracy at [MASK] inputs (the positions whose k-mer the model cannot
see), next-sequence loss and accuracy, matching loss and in-batch R@1 with its chance level, and
the R@1 of retrieval by GC content alone on the same batches.
"""

import argparse
import json
import sys
from pathlib import Path

from splicebert_plugin.training.config import ConfigError
from splicebert_plugin.training.genebert.corpus import GeneBertCorpusError
from splicebert_plugin.training.genebert.pretrain import evaluate_pretrained, evaluation_config
from splicebert_plugin.training.genebert.samples import SampleError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a GeneBERT pretraining folder")
    parser.add_argument("--json", help="also write the result here")
    args, overrides = parser.parse_known_args(argv)
    summary = Path(args.model) / "training_summary.json"
    run = json.loads(summary.read_text())["config"] if summary.is_file() else {}
    try:
        config = evaluation_config(run, overrides)
        result = evaluate_pretrained(args.model, config)
    except (ConfigError, GeneBertCorpusError, SampleError, FileNotFoundError) as error:
        print(f"evaluate_pretraining: error: {error}", file=sys.stderr)
        return 2
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
