"""Gene annotation: GTF / GFF3 (GENCODE, Ensembl, RefSeq) and SpliceAI's annotation table.

Every gene becomes one :class:`Gene` with one transcript's exons: for GTF/GFF3 the transcript
tagged canonical (``Ensembl_canonical``, ``MANE_Select``, ``canonical``) if any, else the one
with the most exonic bases (ties: the first seen). All coordinates are 0-based half-open.
"""

from __future__ import annotations

import bisect
import gzip
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


class AnnotationError(ValueError):
    """The annotation file cannot be used; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class Gene:
    name: str
    chrom: str
    strand: str  # "+" or "-"
    start: int  # 0-based, transcript start
    end: int  # 0-based exclusive, transcript end
    exons: tuple[tuple[int, int], ...]  # 0-based half-open, sorted by genomic position

    def nearest_exon(self, position: int) -> int:
        """Index (genomic order) of the exon containing ``position`` or closest to it."""

        def distance(exon):
            start, end = exon
            return 0 if start <= position < end else min(abs(position - start), abs(position - (end - 1)))

        return min(range(len(self.exons)), key=lambda i: distance(self.exons[i]))

    def is_first_exon(self, index: int) -> bool:
        """First in transcript order."""
        return index == (0 if self.strand == "+" else len(self.exons) - 1)

    def is_last_exon(self, index: int) -> bool:
        return index == (len(self.exons) - 1 if self.strand == "+" else 0)


class GeneIndex:
    """Genes by contig, answering "which genes overlap this interval"."""

    def __init__(self, genes: list[Gene], source: str):
        self.source = source
        self._by_chrom: dict[str, list[Gene]] = defaultdict(list)
        for gene in genes:
            self._by_chrom[gene.chrom].append(gene)
        self._starts: dict[str, list[int]] = {}
        self._longest: dict[str, int] = {}
        for chrom, items in self._by_chrom.items():
            items.sort(key=lambda g: (g.start, g.end, g.name))
            self._starts[chrom] = [g.start for g in items]
            self._longest[chrom] = max(g.end - g.start for g in items)

    @property
    def contigs(self) -> list[str]:
        return list(self._by_chrom)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_chrom.values())

    def overlapping(self, chrom: str, start: int, end: int) -> list[Gene]:
        """Genes whose transcript overlaps ``[start, end)`` (0-based); an empty interval
        (an insertion point) counts as ``[start - 1, start + 1)``."""
        if end <= start:
            start, end = start - 1, start + 1
        genes = self._by_chrom.get(chrom)
        if not genes:
            return []
        starts = self._starts[chrom]
        lo = bisect.bisect_left(starts, start - self._longest[chrom])
        hi = bisect.bisect_left(starts, end)
        return [g for g in genes[lo:hi] if g.end > start]


def _open_text(path: Path):
    with open(path, "rb") as handle:
        gz = handle.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt") if gz else open(path)


def read_annotation(path: str | Path) -> GeneIndex:
    """Read a GTF, GFF3 or SpliceAI table (format recognised from the content)."""
    path = Path(path)
    if not path.is_file():
        raise AnnotationError(f"annotation {path} does not exist; pass a GTF, GFF3 or SpliceAI table with -A")
    if _is_spliceai_table(path):
        genes = _read_spliceai_table(path)
    else:
        genes = _read_gtf_gff(path)
    if not genes:
        raise AnnotationError(f"annotation {path} has no genes with exons")
    return GeneIndex(genes, str(path))


def _is_spliceai_table(path: Path) -> bool:
    with _open_text(path) as handle:
        first = next((line for line in handle if line.strip() and not line.startswith(("##", "track", "browser"))), "")
    return first.startswith(("#NAME", "NAME"))


def read_transcripts(path: str | Path) -> list[Gene]:
    """Every transcript with exons as a :class:`Gene` named after its gene (GTF/GFF3: all
    transcripts; SpliceAI tables: their one transcript per gene)."""
    path = Path(path)
    if not path.is_file():
        raise AnnotationError(f"annotation {path} does not exist")
    if _is_spliceai_table(path):
        return _read_spliceai_table(path)
    transcripts, parents = _gtf_transcripts(path)
    out = []
    for tx_id, entry in transcripts.items():
        if not entry["exons"]:
            continue
        out.append(_as_gene(entry.get("gene") or parents.get(tx_id) or tx_id, entry))
    return out


def read_transcript_spans(path: str | Path) -> list[tuple[str, str, int, int]]:
    """``(chrom, strand, start, end)`` of every transcript (0-based half-open), for corpus building."""
    return [(t.chrom, t.strand, t.start, t.end) for t in read_transcripts(path)]


def _read_spliceai_table(path: Path) -> list[Gene]:
    genes = []
    with _open_text(path) as handle:
        header = handle.readline().lstrip("#").rstrip("\n").split("\t")
        needed = ["NAME", "CHROM", "STRAND", "TX_START", "TX_END", "EXON_START", "EXON_END"]
        missing = [c for c in needed if c not in header]
        if missing:
            raise AnnotationError(f"{path}: SpliceAI table lacks column(s) {missing}; expected {needed}")
        col = {name: header.index(name) for name in needed}
        for lineno, line in enumerate(handle, start=2):
            if not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            try:
                starts = [int(x) for x in fields[col["EXON_START"]].split(",") if x]
                ends = [int(x) for x in fields[col["EXON_END"]].split(",") if x]
                strand = fields[col["STRAND"]]
                if strand not in "+-" or len(starts) != len(ends) or not starts:
                    raise ValueError("strand or exon lists")
                genes.append(
                    Gene(
                        name=fields[col["NAME"]],
                        chrom=fields[col["CHROM"]],
                        strand=strand,
                        # SpliceAI tables: starts 0-based, ends 1-based inclusive = 0-based exclusive
                        start=int(fields[col["TX_START"]]),
                        end=int(fields[col["TX_END"]]),
                        exons=tuple(sorted(zip(starts, ends))),
                    )
                )
            except (ValueError, IndexError) as error:
                raise AnnotationError(f"{path} line {lineno}: not a valid SpliceAI table row ({error})") from None
    return genes


_GTF_ATTR = re.compile(r'(\S+)\s+"([^"]*)"')
_CANONICAL_TAGS = ("Ensembl_canonical", "MANE_Select", "canonical", "basic_canonical")


def _attributes(text: str, gff3: bool) -> tuple[dict[str, str], set[str]]:
    attrs, tags = {}, set()
    if gff3:
        for item in text.strip().strip(";").split(";"):
            if "=" in item:
                key, value = item.split("=", 1)
                attrs[key.strip()] = value.strip()
        for key in ("tag", "tags"):
            tags.update(attrs.get(key, "").split(","))
    else:
        for key, value in _GTF_ATTR.findall(text):
            if key == "tag":
                tags.add(value)
            else:
                attrs.setdefault(key, value)
    return attrs, tags


def _gtf_transcripts(path: Path) -> tuple[dict[str, dict], dict[str, str]]:
    """Exons of every transcript of a GTF/GFF3 (``{id: {exons, chrom, strand, gene, canonical}}``)."""
    transcripts: dict[str, dict] = {}
    parents: dict[str, str] = {}  # GFF3: transcript id -> gene name
    with _open_text(path) as handle:
        for lineno, line in enumerate(handle, start=1):
            if line.startswith(("#", "track", "browser")) or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 9:
                raise AnnotationError(
                    f"{path} line {lineno}: expected 9 tab-separated GTF/GFF3 columns, found {len(fields)}"
                )
            chrom, _, feature, start, end, _, strand, _, text = fields
            gff3 = "=" in text and '"' not in text
            attrs, tags = _attributes(text, gff3)
            if gff3 and feature in ("mRNA", "transcript", "lnc_RNA", "ncRNA", "primary_transcript") and "ID" in attrs:
                parents[attrs["ID"]] = attrs.get("gene_name") or attrs.get("gene") or attrs.get("Parent", attrs["ID"])
                if tags & set(_CANONICAL_TAGS):
                    transcripts.setdefault(attrs["ID"], {"exons": [], "canonical": False})["canonical"] = True
            if feature != "exon":
                continue
            try:
                exon = (int(start) - 1, int(end))  # GTF/GFF: 1-based inclusive
            except ValueError:
                raise AnnotationError(f"{path} line {lineno}: start/end {start!r}/{end!r} are not integers") from None
            if strand not in ("+", "-"):
                continue
            tx_id = attrs.get("transcript_id") or attrs.get("Parent")
            if tx_id is None:
                raise AnnotationError(f"{path} line {lineno}: exon without transcript_id (GTF) or Parent (GFF3)")
            entry = transcripts.setdefault(tx_id, {"exons": [], "canonical": False})
            entry.update(chrom=chrom, strand=strand)
            entry.setdefault("gene", attrs.get("gene_name") or attrs.get("gene_id") or attrs.get("gene"))
            entry["exons"].append(exon)
            if tags & set(_CANONICAL_TAGS):
                entry["canonical"] = True
    return transcripts, parents


def _read_gtf_gff(path: Path) -> list[Gene]:
    transcripts, parents = _gtf_transcripts(path)
    by_gene: dict[tuple[str, str], list[tuple[str, dict]]] = defaultdict(list)
    for tx_id, entry in transcripts.items():
        if not entry["exons"]:
            continue
        name = entry.get("gene") or parents.get(tx_id) or tx_id
        by_gene[(entry["chrom"], name)].append((tx_id, entry))
    genes = []
    for (chrom, name), candidates in by_gene.items():
        tx_id, best = max(
            candidates, key=lambda item: (item[1]["canonical"], sum(e - s for s, e in item[1]["exons"]))
        )
        genes.append(_as_gene(name, best))
    return genes


def _as_gene(name: str, transcript: dict) -> Gene:
    exons = tuple(sorted(set(transcript["exons"])))
    return Gene(name, transcript["chrom"], transcript["strand"], exons[0][0], max(e for _, e in exons), exons)
