"""In-silico mutagenesis (ISM): every position of a region, all three alternative bases.

The region (transcript orientation) is covered by windows of ``width`` nucleotides, each with
``context`` nucleotides of flank on both sides of the part it scores, so every position gets
the full published KL-context. One WT pass serves all positions and alleles of a window; each
MT differs from it at one position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scoring import variant_effect
from ..scoring.passes import ProbabilityModel
from ..scoring.windows import orient
from ..errors import UserError

BASES = "ACGT"


@dataclass(frozen=True)
class IsmResult:
    """ISM of a region. ``L`` = region length; alleles in A, C, G, T order (NaN at the reference).

    kl_context: (L, 4) KL-context score of each substitution;
    max_kl: (L, 4) largest per-position KL within the context;
    summary: (L,) the maximum KL-context over the three alternatives (the per-position profile);
    reference: the region's bases.
    """

    reference: str
    kl_context: np.ndarray
    max_kl: np.ndarray

    @property
    def summary(self) -> np.ndarray:
        return np.nanmax(self.kl_context, axis=1)


def tile_region(length: int, region_start: int, region_end: int, width: int, context: int) -> list[tuple[int, int, int]]:
    """Windows covering ``[region_start, region_end)`` of a sequence of ``length`` nt.

    Returns ``(window_start, score_start, score_end)`` triples: each window scores the
    positions ``[score_start, score_end)``, all at least ``context`` nt from its edges.
    """
    step = width - 2 * context
    if step < 1:
        raise UserError(f"window width {width} leaves no room for +-{context} nt of context")
    if region_start - context < 0 or region_end + context > length:
        raise UserError(
            f"the region [{region_start}, {region_end}) needs {context} nt of flank on each side inside the "
            f"sequence (length {length})"
        )
    tiles = []
    position = region_start
    while position < region_end:
        score_end = min(region_end, position + step)
        window_start = min(max(0, position - context), length - width)
        tiles.append((window_start, position, score_end))
        position = score_end
    return tiles


def in_silico_mutagenesis(
    model,
    sequence: str,
    region_start: int,
    region_end: int,
    *,
    width: int | None = None,
    context: int = variant_effect.CONTEXT,
    batch_size: int = 16,
    precision: str = "fp32",
) -> IsmResult:
    """ISM of ``sequence[region_start:region_end]`` (transcript orientation, 0-based).

    ``sequence`` must extend at least ``context`` nt beyond the region on both sides and be at
    least ``width`` nt long (default: the model's length). ``precision``: ``fp32`` (exact),
    ``bf16`` or ``int8`` (CPU), see ``scoring.precision``.
    """
    limit = model.config.max_position_embeddings - 2
    width = limit if width is None else width
    if not 2 * context < width <= limit:
        raise UserError(f"window width {width} must exceed 2 x {context} nt of context and fit the model's {limit} nt")
    sequence = sequence.upper()
    if len(sequence) < width:
        raise UserError(f"sequence of {len(sequence)} nt is shorter than the window width {width}")
    runner = ProbabilityModel(model, batch_size, precision)
    length = region_end - region_start
    kl_context = np.full((length, 4), np.nan)
    max_kl = np.full((length, 4), np.nan)
    for window_start, score_start, score_end in tile_region(len(sequence), region_start, region_end, width, context):
        wt = sequence[window_start : window_start + width]
        p_wt = runner.nucleotide_probabilities([wt])[0]
        mutants, where = [], []
        for position in range(score_start, score_end):
            v = position - window_start
            for column, base in enumerate(BASES):
                if base != wt[v]:
                    mutants.append(wt[:v] + base + wt[v + 1 :])
                    where.append((position - region_start, column, v))
        p_mt = runner.nucleotide_probabilities(mutants)
        for (row, column, v), probs in zip(where, p_mt):
            kl = variant_effect.kl_divergence(probs, p_wt)
            kl_context[row, column] = variant_effect.kl_context_score(kl, v, 1, context)[0]
            max_kl[row, column] = variant_effect.max_context_kl(kl, v, 1, context)
    return IsmResult(sequence[region_start:region_end], kl_context, max_kl)


@dataclass(frozen=True)
class IsmInput:
    """A region to mutate inside the sequence that carries its flanks (transcript orientation).

    ``sequence[region_start:region_end]`` is the region; ``positions[i]`` names region index ``i``
    in the output (a 1-based genomic position for genome regions, the 0-based sequence index
    otherwise).
    """

    sequence: str
    region_start: int
    region_end: int
    positions: tuple[int, ...]
    title: str


def parse_region(text: str) -> tuple[str, int, int]:
    """``"chr19:308,700-308,900"`` -> ``("chr19", 308700, 308900)`` (1-based, inclusive)."""
    try:
        contig, span = text.rsplit(":", 1)
        start, end = (int(x.replace(",", "")) for x in span.split("-"))
    except ValueError:
        raise UserError(f"--region must look like chr19:308700-308900 (1-based, inclusive), got {text!r}") from None
    if start < 1 or end < start:
        raise UserError(f"--region {text!r}: need 1 <= start <= end")
    return contig, start, end


def genome_region(genome, region: str, strand: str, *, width: int, context: int = variant_effect.CONTEXT) -> IsmInput:
    """The :class:`IsmInput` of ``region`` (``chr:start-end``, 1-based inclusive) of an opened
    ``io.genome.Genome``, oriented to ``strand``, with enough flank for every window.

    Raises :class:`ValueError` when the contig is unknown or the flanks run off the contig
    (the windows there would be padded with N and the scores would mean little).
    """
    from ..io.contigs import ContigMap

    if strand not in ("+", "-"):
        raise UserError(f"strand must be + or -, got {strand!r}")
    contig, start1, end1 = parse_region(region)
    name = ContigMap(genome.contigs, f"genome {genome.path.name}").get(contig)
    if name is None:
        raise UserError(f"contig {contig!r} is not in {genome.path} (its contigs: {', '.join(genome.contigs[:8])})")
    length = end1 - start1 + 1
    pad = max(context, (width - length + 1) // 2 + 1)
    lo, hi, contig_length = start1 - 1 - pad, end1 + pad, genome.lengths[name]
    if lo < 0 or hi > contig_length:
        raise UserError(
            f"region {region} is too close to an end of {name} (length {contig_length:,}): its windows need {pad} nt "
            f"on each side inside the contig, i.e. a region within {pad + 1:,}-{contig_length - pad:,}"
        )
    sequence, _ = genome.fetch(name, lo, hi)
    positions = range(start1, end1 + 1) if strand == "+" else range(end1, start1 - 1, -1)  # transcript order
    return IsmInput(orient(sequence, strand), pad, pad + length, tuple(positions), f"{contig}:{start1}-{end1} ({strand})")


def sequence_region(sequence: str, title: str, region_start: int | None, region_end: int | None) -> IsmInput:
    """The :class:`IsmInput` of ``sequence[region_start:region_end]`` (0-based; both None: the
    40 nt around the centre)."""
    if (region_start is None) != (region_end is None):
        raise UserError("give both --region-start and --region-end (0-based, end exclusive), or neither")
    given = "--region-start/--region-end" if region_start is not None else "the default region (40 nt around the centre)"
    if region_start is None:
        mid = len(sequence) // 2
        region_start, region_end = mid - 20, mid + 20
    if not 0 <= region_start < region_end <= len(sequence):
        raise UserError(f"{title} ({len(sequence)} nt): {given} [{region_start}, {region_end}) is not inside it; "
                        "give a longer sequence or a region within it")
    return IsmInput(sequence, region_start, region_end, tuple(range(region_start, region_end)), title)


def ism_table_rows(result: IsmResult, offset: int = 0):
    """Rows ``(position, ref, alt, KL_CONTEXT, MAX_KL)``; ``position`` = region index + ``offset``."""
    for row, ref in enumerate(result.reference):
        for column, alt in enumerate(BASES):
            if alt != ref:
                yield offset + row, ref, alt, result.kl_context[row, column], result.max_kl[row, column]


def write_ism(result: IsmResult, positions, output: str, summary: str | None = None) -> None:
    """The substitution table (one row per position x alternative base) and, with ``summary``,
    the per-position table; ``positions[i]`` names region index ``i``."""
    import csv

    with open(output, "w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(["POSITION", "REF", "ALT", "KL_CONTEXT", "MAX_KL"])
        for index, ref, alt, kl_context, max_kl in ism_table_rows(result):
            writer.writerow([positions[index], ref, alt, f"{kl_context:.6f}", f"{max_kl:.6g}"])
    if summary:
        with open(summary, "w") as handle:
            handle.write("POSITION\tREF\tMAX_KL_CONTEXT\n")
            for index, (ref, value) in enumerate(zip(result.reference, result.summary, strict=True)):
                handle.write(f"{positions[index]}\t{ref}\t{value:.6f}\n")


def plot_ism(result: IsmResult, path: str, *, title: str = "", offset: int = 0) -> None:
    """Heatmap of the KL-context of every substitution (rows A/C/G/T) and the per-position maximum."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("the ISM heatmap needs matplotlib: pip install 'splicebert-plugin[plot]'") from None
    length = len(result.reference)
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(max(6, length * 0.12), 4), sharex=True, gridspec_kw={"height_ratios": [1, 2]}
    )
    positions = np.arange(length) + offset
    top.plot(positions, result.summary, color="black", linewidth=1)
    top.set_ylabel("max KL-context")
    top.set_title(title if len(title) <= 70 else title[:67] + "...", fontsize=8)
    image = bottom.imshow(
        result.kl_context.T, aspect="auto", cmap="viridis", interpolation="nearest",
        extent=(positions[0] - 0.5, positions[-1] + 0.5, 3.5, -0.5),
    )
    bottom.set_yticks(range(4), list(BASES))
    bottom.set_xlabel("position")
    if length <= 80:
        bottom.set_xticks(positions, list(result.reference), fontsize=6)
    fig.colorbar(image, ax=[top, bottom], label="KL-context (nats, log-summed)")
    fig.savefig(path, dpi=150)
    plt.close(fig)
