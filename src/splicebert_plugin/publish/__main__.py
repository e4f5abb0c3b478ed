"""Maintainer tools: ``python -m splicebert_plugin.publish hub-models|kipoi-models [--out DIR] [--check]``
regenerates the committed ``hub_models/`` / ``kipoi_models/`` folders from the package, or with
``--check`` reports (exit 1) the files that drifted from a fresh export."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m splicebert_plugin.publish", description=__doc__)
    parser.add_argument("what", choices=["hub-models", "kipoi-models"])
    parser.add_argument("--out", help="output folder (default: hub_models or kipoi_models)")
    parser.add_argument("--check", action="store_true", help="only check that --out matches a fresh export")
    args = parser.parse_args(argv)
    if args.what == "hub-models":
        from .hub_models import drifted_files, export_hub_models as export
    else:
        from .kipoi_models import drifted_files, export_kipoi_models as export
    out = args.out or args.what.replace("-", "_")
    if args.check:
        drift = drifted_files(out)
        if drift:
            print(f"{out} differs from a fresh export: {', '.join(drift)}; "
                  f"run 'python -m splicebert_plugin.publish {args.what} --out {out}'", file=sys.stderr)
            return 1
        print(f"{out} is up to date")
        return 0
    for folder in export(out):
        print(f"wrote {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
