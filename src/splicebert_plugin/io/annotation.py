"""Gene annotation: GTF / GFF3 (GENCODE, Ensembl, RefSeq, UCSC) and SpliceAI's annotation table.

Every gene becomes one :class:`Gene` with one transcript's exons: for GTF/GFF3 the transcript
tagged canonical (``Ensembl_canonical``, ``MANE_Select``, ``canonical``) if any, else the one
with the most exonic bases (ties: the first seen). All coordinates are 0-based half-open.

Identity (``docs/annotation.md``): a gene is its ``gene_id`` (GTF) or parent gene feature
(GFF3) on one contig and strand, split further into loci where its transcripts do not overlap,
so one name at two places stays two genes. A transcript is its id on one contig and strand; a
transcript id that recurs elsewhere on the same contig and strand (a second ``transcript``
line, or exons overlapping those already read) starts a second transcript, never a merged one.
GFF3 exons may name several parents (``Parent=tx1,tx2``); quoted and percent-encoded values
and Ensembl's ``gene:``/``transcript:`` prefixes are read as such.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from .text import lines as text_lines
from ..errors import UserError


class AnnotationError(UserError):
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


def _lines(path: Path):
    """``(line number, text)`` of a plain or gzip text file (BOM accepted, non-UTF-8 named)."""
    return text_lines(path, AnnotationError)


def _resolve(path: str | Path) -> Path:
    """The file ``path``, checked; built-in names (``grch38``) are resolved before this layer
    (``sources.gencode.annotation_file``): a file reader never downloads."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise AnnotationError(f"annotation {path} {what}; pass a GTF, GFF3 or SpliceAI table (or grch37 / grch38) with -A")
    return path


def read_annotation(path: str | Path) -> GeneIndex:
    """Read a GTF, GFF3 or SpliceAI table (format recognised from the content). The built-in
    ``grch37`` / ``grch38`` are turned into their cached table by ``sources.gencode.annotation_file``."""
    path = _resolve(path)
    if _is_spliceai_table(path):
        genes = _read_spliceai_table(path)
    else:
        genes = _genes_of(_read_transcript_records(path))
    if not genes:
        raise AnnotationError(f"annotation {path} has no genes with exons")
    return GeneIndex(genes, str(path))


def _is_spliceai_table(path: Path) -> bool:
    for _, line in _lines(path):
        if line.strip() and not line.startswith(("##", "track", "browser")):
            return line.startswith(("#NAME", "NAME"))
    return False


def read_transcripts(path: str | Path) -> list[Gene]:
    """Every transcript with exons as a :class:`Gene` named after its gene (GTF/GFF3: all
    transcripts; SpliceAI tables: their one transcript per gene)."""
    path = _resolve(path)
    if _is_spliceai_table(path):
        return _read_spliceai_table(path)
    return [_as_gene(t.gene_name, t) for t in _read_transcript_records(path)]


def canonical_genes(path: str | Path, *, gene_types=None) -> list[Gene]:
    """One :class:`Gene` per gene and locus of a GTF/GFF3, as :func:`read_annotation` chooses
    them, keeping only genes whose ``gene_type`` (GFF3: ``biotype``) is in ``gene_types``."""
    records = _read_transcript_records(Path(path))
    if gene_types is not None:
        records = [t for t in records if t.gene_type in gene_types]
    return _genes_of(records)


def read_transcript_spans(path: str | Path) -> list[tuple[str, str, int, int]]:
    """``(chrom, strand, start, end)`` of every transcript (0-based half-open), for corpus building."""
    return [(t.chrom, t.strand, t.start, t.end) for t in read_transcripts(path)]


def _read_spliceai_table(path: Path) -> list[Gene]:
    genes = []
    lines = _lines(path)
    header = next(lines, (1, ""))[1].lstrip("#").split("\t")
    needed = ["NAME", "CHROM", "STRAND", "TX_START", "TX_END", "EXON_START", "EXON_END"]
    missing = [c for c in needed if c not in header]
    if missing:
        raise AnnotationError(f"{path}: SpliceAI table lacks column(s) {missing}; expected {needed}")
    col = {name: header.index(name) for name in needed}
    for lineno, line in lines:
        if not line.strip():
            continue
        fields = line.split("\t")
        try:
            starts = [int(x) for x in fields[col["EXON_START"]].split(",") if x]
            ends = [int(x) for x in fields[col["EXON_END"]].split(",") if x]
            strand = fields[col["STRAND"]]
            if strand not in ("+", "-") or len(starts) != len(ends) or not starts:
                raise ValueError("strand must be + or -, with as many exon starts as ends")
            if any(e <= s for s, e in zip(starts, ends)):
                raise ValueError("an exon ends before it starts")
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


# ---------------------------------------------------------------------------------------------
# GTF / GFF3

_GTF_KEYS = ("gene_id", "transcript_id", "gene_name", "gene_type", "exon_number", "tag")
_GTF_WANTED = re.compile(r'(?:^|;)\s*(' + "|".join(_GTF_KEYS) + r')\s+(?:"([^"]*)"|([^\s";]+))')
_LOOKS_GTF = re.compile(r'^\s*[^\s";=]+\s+"')
_CANONICAL_TAGS = frozenset(("Ensembl_canonical", "MANE_Select", "canonical", "basic_canonical"))
_PREFIXES = ("gene:", "transcript:", "gene-", "rna-")  # Ensembl / NCBI id prefixes, not part of names


@dataclass
class _Transcript:
    """One transcript read from a GTF/GFF3 (its exons as found)."""

    tx_id: str
    chrom: str
    strand: str
    gene_key: str  # what identifies its gene (gene_id, GFF3 parent gene id, or the gene name)
    gene_name: str
    gene_type: str = ""  # GENCODE gene_type / Ensembl biotype, when the file has it
    exons: list[tuple[int, int]] = field(default_factory=list)
    canonical: bool = False
    exon_numbers: set = field(default_factory=set)

    @property
    def start(self) -> int:
        return min(s for s, _ in self.exons)

    @property
    def end(self) -> int:
        return max(e for _, e in self.exons)


def _strip_prefix(text: str) -> str:
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix):]
    return text


def _gtf_attributes(text: str, path: Path, lineno: int) -> tuple[dict[str, str], set[str]]:
    """The attributes this reader uses (:data:`_GTF_KEYS`) of a GTF line, and its tags."""
    if text.count('"') % 2:  # cheap: a full grammar check costs a third of the reading time
        raise AnnotationError(f"{path} line {lineno}: cannot read the GTF attributes {text.strip()[:80]!r} "
                              '(unbalanced quotes; expected key "value"; pairs)')
    attrs, tags = {}, set()
    for key, quoted, bare in _GTF_WANTED.findall(text):
        if key == "tag":
            tags.add(quoted or bare)
        elif key not in attrs:
            attrs[key] = quoted or bare
    return attrs, tags


def _gff3_attributes(text: str, path: Path, lineno: int) -> tuple[dict[str, str], set[str]]:
    attrs = {}
    for item in text.strip().split(";"):
        item = item.strip()
        if not item:
            continue
        if "=" not in item:
            raise AnnotationError(f"{path} line {lineno}: GFF3 attribute {item[:60]!r} is not key=value")
        key, value = item.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        attrs[key.strip()] = value
    tags = {unquote(t) for key in ("tag", "tags") for t in attrs.get(key, "").split(",") if t}
    return attrs, tags


def _interval(start: str, end: str, path: Path, lineno: int) -> tuple[int, int]:
    """0-based half-open interval of a GTF/GFF feature (1-based inclusive columns)."""
    try:
        interval = (int(start) - 1, int(end))
    except ValueError:
        raise AnnotationError(f"{path} line {lineno}: start/end {start!r}/{end!r} are not integers") from None
    if interval[1] <= interval[0]:
        raise AnnotationError(f"{path} line {lineno}: end {end} is before start {start}")
    return interval


def _read_transcript_records(path: Path) -> list[_Transcript]:
    """Every transcript of a GTF or GFF3 file, with its exons."""
    gff3 = None  # decided by the header or the first feature line
    gtf_exons, gff_features, gff_exons = [], {}, []
    for lineno, line in _lines(path):
        if line.startswith("##gff-version"):
            words = line.split()
            gff3 = len(words) > 1 and words[1].startswith("3")
            continue
        if line.startswith(("#", "track", "browser")) or not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 9:
            raise AnnotationError(f"{path} line {lineno}: expected 9 tab-separated GTF/GFF3 columns, "
                                  f"found {len(fields)}")
        chrom, _, feature, start, end, _, strand, _, text = fields
        if gff3 is None:
            gff3 = not _LOOKS_GTF.match(text)
        if gff3:
            attrs, tags = _gff3_attributes(text, path, lineno)
            if "ID" in attrs:
                gff_features.setdefault(unquote(attrs["ID"]), (feature, attrs, tags))
            if feature == "exon":
                parents = [unquote(p) for p in attrs.get("Parent", "").split(",") if p]
                if not parents:
                    raise AnnotationError(f"{path} line {lineno}: GFF3 exon without a Parent attribute")
                gff_exons.append((chrom, strand, _interval(start, end, path, lineno), parents, tags))
        elif feature in ("exon", "transcript"):
            attrs, tags = _gtf_attributes(text, path, lineno)
            if "transcript_id" not in attrs:
                raise AnnotationError(f"{path} line {lineno}: GTF {feature} without transcript_id")
            gtf_exons.append((chrom, strand, feature, _interval(start, end, path, lineno), attrs, tags))
    if gff3:
        return _gff3_transcripts(gff_features, gff_exons)
    return _gtf_transcripts(gtf_exons)


def _gtf_transcripts(rows) -> list[_Transcript]:
    transcripts: list[_Transcript] = []
    current: dict[tuple[str, str, str], _Transcript] = {}  # (id, chrom, strand) -> the instance being read
    for chrom, strand, feature, interval, attrs, tags in rows:
        if strand not in ("+", "-"):
            continue
        key = (attrs["transcript_id"], chrom, strand)
        entry = current.get(key)
        number = attrs.get("exon_number")
        recurs = entry is not None and entry.exons and (
            feature == "transcript"
            or (number in entry.exon_numbers if number is not None
                else any(s < interval[1] and interval[0] < e for s, e in entry.exons))
        )
        if entry is None or recurs:
            gene_name = attrs.get("gene_name") or attrs.get("gene_id") or attrs["transcript_id"]
            entry = _Transcript(attrs["transcript_id"], chrom, strand, attrs.get("gene_id") or gene_name, gene_name,
                                attrs.get("gene_type", ""))
            current[key] = entry
            transcripts.append(entry)
        entry.canonical |= bool(tags & _CANONICAL_TAGS)
        if feature == "exon":
            entry.exons.append(interval)
            if number is not None:
                entry.exon_numbers.add(number)
    return [t for t in transcripts if t.exons]


def _gff3_transcripts(features: dict, exons) -> list[_Transcript]:
    def gene_name(feature_id: str) -> str:
        _, attrs, _ = features.get(feature_id, ("", {}, set()))
        for key in ("gene_name", "Name", "gene"):
            if attrs.get(key):
                return unquote(attrs[key])
        return _strip_prefix(feature_id)

    transcripts: dict[tuple[str, str, str], _Transcript] = {}
    for chrom, strand, interval, parents, tags in exons:
        if strand not in ("+", "-"):
            continue
        for parent in parents:
            key = (parent, chrom, strand)
            entry = transcripts.get(key)
            if entry is None:
                feature, attrs, tx_tags = features.get(parent, ("", {}, set()))
                genes = [unquote(g) for g in attrs.get("Parent", "").split(",") if g]
                own = unquote(attrs.get("gene_name") or attrs.get("gene") or "")
                if feature.endswith("gene"):  # an exon directly under a gene: the gene is its own transcript
                    gene_key, name = parent, gene_name(parent)
                elif genes:
                    gene_key, name = genes[0], own or gene_name(genes[0])
                else:  # a transcript without a gene feature: grouped by the gene it names
                    name = own or _strip_prefix(parent)
                    gene_key = name
                gene_attrs = features.get(gene_key, ("", {}, set()))[1]
                gene_type = attrs.get("gene_type") or gene_attrs.get("gene_type") or gene_attrs.get("biotype", "")
                entry = _Transcript(parent, chrom, strand, gene_key, name, gene_type,
                                    canonical=bool(tx_tags & _CANONICAL_TAGS))
                transcripts[key] = entry
            entry.exons.append(interval)
            entry.canonical |= bool(tags & _CANONICAL_TAGS)
    return list(transcripts.values())


def _genes_of(transcripts: list[_Transcript]) -> list[Gene]:
    """One :class:`Gene` per gene and locus: transcripts grouped by gene on a contig and strand,
    split where they do not overlap; the canonical (else the longest) transcript of each."""
    groups: dict[tuple[str, str, str], list[tuple[int, _Transcript]]] = defaultdict(list)
    for order, t in enumerate(transcripts):
        groups[(t.chrom, t.strand, t.gene_key)].append((order, t))
    genes = []
    for members in groups.values():
        members.sort(key=lambda item: (item[1].start, item[1].end))
        loci, end = [], -1
        for order, t in members:
            if t.start >= end:
                loci.append([])
            loci[-1].append((order, t))
            end = max(end, t.end)
        for locus in loci:
            locus.sort(key=lambda item: item[0])  # ties: the first transcript in the file
            _, best = max(locus, key=lambda item: (item[1].canonical, sum(e - s for s, e in set(item[1].exons))))
            genes.append(_as_gene(best.gene_name, best))
    return genes


def _as_gene(name: str, transcript) -> Gene:
    exons = tuple(sorted(set(transcript.exons)))
    return Gene(name, transcript.chrom, transcript.strand, exons[0][0], max(e for _, e in exons), exons)
