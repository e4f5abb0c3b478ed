"""Build a pretraining corpus folder.

    python training/build_corpus.py OUT SPECIES=FASTA[,ANNOTATION] [SPECIES=FASTA[,ANNOTATION] ...]
        [--validation 0.01] [--min-length 64] [--seed 0]

FASTA must be indexed (samtools faidx) when an annotation is given; without one, every FASTA
record is taken as a transcript.
"""

import argparse
import json
import sys

from splicebert_plugin.training.splicebert.corpus import CorpusError, CorpusInput, build_corpus


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("inputs", nargs="+", help="SPECIES=FASTA[,ANNOTATION]")
    parser.add_argument("--validation", default="0.01", help="held-out sequences: a count or a fraction")
    parser.add_argument("--min-length", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    inputs = []
    for item in args.inputs:
        species, sep, paths = item.partition("=")
        if not sep:
            parser.error(f"input {item!r} must look like SPECIES=FASTA[,ANNOTATION]")
        fasta, _, annotation = paths.partition(",")
        inputs.append(CorpusInput(fasta=fasta, species=species, annotation=annotation or None))
    validation = float(args.validation) if "." in args.validation else int(args.validation)
    try:
        out = build_corpus(inputs, args.out, validation=validation, min_length=args.min_length, seed=args.seed)
    except (CorpusError, ValueError) as error:
        print(f"build_corpus: error: {error}", file=sys.stderr)
        return 2
    meta = json.loads((out / "meta.json").read_text())
    print(json.dumps({k: meta[k] for k in ("sequences", "validation_sequences", "nucleotides", "summary")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
