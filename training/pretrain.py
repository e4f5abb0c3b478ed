"""Masked-LM pretraining entry point (run it with `accelerate launch` or plain python).

    accelerate launch --config_file training/accelerate/1gpu.yaml training/pretrain.py \
        --config training/configs/stage1.yaml --corpus=corpus/ --output_dir=runs/stage1

Any config key can be overridden with --key=value. Rerunning the same command resumes from the
last checkpoint in output_dir.
"""

import argparse
import logging
import sys

from splicebert_plugin.training.config import ConfigError, load_config
from splicebert_plugin.training.splicebert.pretrain import PretrainConfig, pretrain


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="YAML file (training/configs/*.yaml)")
    args, overrides = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    try:
        config = load_config(PretrainConfig, args.config, overrides)
    except ConfigError as error:
        print(f"pretrain: error: {error}", file=sys.stderr)
        return 2
    final = pretrain(config)
    print(f"final model: {final}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
