"""Build a GeneBERT pretraining corpus: regions, the DNA they show, their motif matrix.

    python training/genebert/build_corpus.py OUT --genome hg19.fa \
        --track neurons=peaks/neurons.bed --track astrocytes=peaks/astrocytes.bed \
        [--mtx peaks.mtx --peaks peaks.txt --cells cells.tsv] [--cpg-islands] [--tiles] \
        [--exclude test_windows.bed] [--region-bp 50] [--p-value 5e-5] [--jaspar JASPAR2018]

Tracks ("cell types"): one peak BED each (--track NAME=BED), or the pseudo-bulk of a peaks x cells
Matrix Market file (--mtx with its peak names and a cell<TAB>cell_type table: one track per cell
type, a region accessible where at least --min-cells cells have a read), and/or label-free regions
computed from the sequence (--cpg-islands: Takai-Jones islands; --tiles: consecutive windows).
Motifs: JASPAR CORE vertebrates of the release (pyjaspar, offline), thresholds at --p-value under
the background of the scanned windows. Rerunning with the same inputs reuses the folder.
"""

import argparse
import json
import sys
from pathlib import Path

from splicebert_plugin.training.genebert.corpus import track_file_stem
from splicebert_plugin.training.genebert.regions import RegionError, read_mtx_tracks
from splicebert_plugin.training.genebert.corpus import (CorpusSettings, GeneBertCorpusError, TrackInput,
                                                        build_genebert_corpus)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("--genome", required=True, help="genome FASTA (a .fai is written if missing)")
    parser.add_argument("--track", action="append", default=[], metavar="NAME=BED", help="a peak file per cell type")
    parser.add_argument("--mtx", help="peaks x cells Matrix Market counts (with --peaks and --cells)")
    parser.add_argument("--peaks", help="peak names of the matrix rows (chr:start-end, chr_start_end)")
    parser.add_argument("--cells", help="cell<TAB>cell_type per matrix column")
    parser.add_argument("--min-cells", type=int, default=1, help="cells with a read for a region to count as open")
    parser.add_argument("--cpg-islands", action="store_true", help="add a track of CpG islands (from sequence)")
    parser.add_argument("--tiles", action="store_true", help="add a track of consecutive genome tiles")
    parser.add_argument("--exclude", help="BED of intervals kept out of the corpus (a downstream test's windows)")
    parser.add_argument("--region-bp", type=int, default=50, help="nucleotides shown per region (default 50)")
    parser.add_argument("--p-value", type=float, default=5e-5)
    parser.add_argument("--jaspar", default="JASPAR2018", help="JASPAR release (pyjaspar)")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    tracks = []
    try:
        for item in args.track:
            name, sep, path = item.partition("=")
            if not sep:
                raise GeneBertCorpusError(f"--track {item!r} must look like NAME=BED")
            tracks.append(TrackInput(name, "bed", path))
        if args.mtx:
            if not (args.peaks and args.cells):
                raise GeneBertCorpusError("--mtx needs --peaks and --cells")
            folder = Path(args.out + ".pseudobulk")
            folder.mkdir(parents=True, exist_ok=True)
            for cell_type, regions in read_mtx_tracks(args.mtx, args.peaks, args.cells,
                                                      min_cells=args.min_cells).items():
                bed = folder / f"{track_file_stem(cell_type)}.bed"  # cell types may hold "/" or spaces
                bed.write_text("".join(f"{r.chrom}\t{r.start}\t{r.end}\n" for r in regions))
                tracks.append(TrackInput(cell_type, "bed", str(bed)))
        if args.cpg_islands:
            tracks.append(TrackInput("cpg_islands", "cpg_islands"))
        if args.tiles:
            tracks.append(TrackInput("tiles", "tiles"))
        settings = CorpusSettings(region_bp=args.region_bp, jaspar_release=args.jaspar, p_value=args.p_value)
        out = build_genebert_corpus(args.genome, tracks, args.out, settings=settings, exclude=args.exclude,
                                    progress=not args.quiet)
    except (GeneBertCorpusError, RegionError, ValueError, ImportError, OSError) as error:
        print(f"build_corpus: error: {error}", file=sys.stderr)
        return 2
    meta = json.loads((out / "meta.json").read_text())
    print(json.dumps({k: meta[k] for k in ("regions", "motifs", "background", "skipped", "summary")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
