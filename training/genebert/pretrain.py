"""GeneBERT pretraining entry point (run it with `accelerate launch` or plain python).

    accelerate launch --config_file training/accelerate/1gpu.yaml training/genebert/pretrain.py \
        --config training/genebert/configs/dnabert512.yaml --corpus=corpus/ --output_dir=runs/genebert

Any config key can be overridden with --key=value (--srm_weight=0 for the MLM + NSP arm,
--srm_weight=0 --nsp=false for MLM only). Rerunning the same command resumes from the last
checkpoint in output_dir.
"""

import argparse
import logging
import sys

from splicebert_plugin.training.config import ConfigError, load_config
from splicebert_plugin.training.genebert.corpus import GeneBertCorpusError
from splicebert_plugin.training.genebert.pretrain import GeneBertPretrainConfig, pretrain_genebert
from splicebert_plugin.training.genebert.samples import SampleError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="YAML file (training/genebert/configs/*.yaml)")
    args, overrides = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    try:
        config = load_config(GeneBertPretrainConfig, args.config, overrides)
        final = pretrain_genebert(config)
    except (ConfigError, GeneBertCorpusError, SampleError) as error:
        print(f"pretrain: error: {error}", file=sys.stderr)
        return 2
    print(f"final model: {final}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
