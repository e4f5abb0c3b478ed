"""``-A grch37`` / ``-A grch38``: canonical transcripts of GENCODE, fetched and derived on first use.

SpliceAI's tables (``spliceai`` on PyPI) are GPL-3.0 and cannot be bundled with this BSD
package, so the table is derived here from GENCODE's own ``basic`` GTF of a pinned release
(GRCh38, and the GRCh37 mapping of the same release): for every ``protein_coding`` and
``lncRNA`` gene, its transcript tagged ``Ensembl_canonical`` (else the one with the most exonic
bases), written in SpliceAI's table layout to ``<cache>/annotations/``. The GTF is checked
against the MD5 the release publishes (its ``MD5SUMS`` file) and cached like the weights; the
table is written atomically. GENCODE data are free to use (EMBL-EBI terms of use).
"""

from __future__ import annotations

import gzip
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from .downloads import DownloadError, cache_dir, fetch, is_offline, writable_dir

log = logging.getLogger(__name__)

GENE_TYPES = ("protein_coding", "lncRNA")
_BASE = "https://ftp.ebi.ac.uk/pub/databases/gencode/Gencode_human"


@dataclass(frozen=True)
class GencodeSource:
    """One GENCODE GTF and the checksum list published beside it."""

    assembly: str
    release: int
    folder_url: str  # the folder holding the GTF and MD5SUMS
    filename: str

    @property
    def url(self) -> str:
        return f"{self.folder_url}/{self.filename}"

    @property
    def md5sums_url(self) -> str:
        return f"{self.folder_url}/MD5SUMS"

    @property
    def table_name(self) -> str:
        return f"{self.assembly}.gencode.v{self.release}.canonical.tsv.gz"


RELEASE = 46
SOURCES = {
    "grch38": GencodeSource("grch38", RELEASE, f"{_BASE}/release_{RELEASE}", f"gencode.v{RELEASE}.basic.annotation.gtf.gz"),
    "grch37": GencodeSource("grch37", RELEASE, f"{_BASE}/release_{RELEASE}/GRCh37_mapping",
                            f"gencode.v{RELEASE}lift37.basic.annotation.gtf.gz"),
}


def is_builtin(spec) -> bool:
    """True when ``spec`` names a built-in annotation (and no such file exists here)."""
    return str(spec).lower() in SOURCES and not Path(str(spec)).exists()


def annotation_file(spec: str | os.PathLike, *, offline: bool = False, progress: bool = True) -> Path:
    """The file an ``-A`` value names: the cached table of ``grch37``/``grch38`` (fetched and
    derived on first use, unless offline), or the path itself. The one place that turns a name
    into an annotation file; ``io.annotation`` only reads files."""
    return builtin_table(str(spec), offline=offline, progress=progress) if is_builtin(spec) else Path(spec)


def annotation_dir() -> Path:
    return cache_dir() / "annotations"


def _md5_from_list(text: str, filename: str, url: str) -> str:
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].lstrip("*./") == filename:
            return fields[0].lower()
    raise DownloadError(f"{url} lists no checksum for {filename}")


def builtin_table(name: str, *, offline: bool = False, progress: bool = True, sources: dict | None = None) -> Path:
    """The derived table of ``grch37``/``grch38`` in the cache, fetched and derived if needed."""
    source = (sources or SOURCES)[name.lower()]
    table = annotation_dir() / source.table_name
    if table.is_file():
        return table
    if is_offline(offline):
        raise DownloadError(
            f"the built-in annotation {name} is not in the cache ({table}) and downloads are off (HF_HUB_OFFLINE or "
            f"--offline): run 'splicebert download --annotation {name}' on a connected machine and copy {table} here"
        )
    folder = writable_dir(annotation_dir(), "cache folder")
    downloads = writable_dir(cache_dir() / "downloads", "cache folder")
    listing = fetch(source.md5sums_url, downloads / f"{source.assembly}.v{source.release}.MD5SUMS", progress=False)
    md5 = _md5_from_list(listing.read_text(), source.filename, source.md5sums_url)
    listing.unlink()
    gtf = downloads / source.filename
    if gtf.is_file():
        from .downloads import file_digest

        if file_digest(gtf, "md5") != md5:
            gtf.unlink()
    if not gtf.is_file():
        log.warning("fetching GENCODE v%d (%s) for -A %s (once)", source.release, source.filename, name)
        fetch(source.url, gtf, md5=md5, progress=progress)
    staging = folder / f".{source.table_name}.{os.getpid()}.tmp"
    try:
        count = write_canonical_table(gtf, staging)
        os.replace(staging, table)
    finally:
        staging.unlink(missing_ok=True)
    log.warning("built-in annotation %s: %d genes from %s -> %s", name, count, source.filename, table)
    return table


def write_canonical_table(gtf: Path, out: Path, gene_types=GENE_TYPES) -> int:
    """Write the canonical transcript of every gene of ``gene_types`` in ``gtf`` as a gzipped
    SpliceAI table (starts 0-based, ends 1-based); returns the number of genes."""
    from ..io.annotation import canonical_genes

    genes = sorted(canonical_genes(gtf, gene_types=gene_types), key=lambda g: (g.chrom, g.start, g.end, g.name))
    with gzip.open(out, "wt") as handle:
        handle.write("#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END\n")
        for gene in genes:
            starts = "".join(f"{s}," for s, _ in gene.exons)
            ends = "".join(f"{e}," for _, e in gene.exons)
            handle.write(f"{gene.name}\t{gene.chrom}\t{gene.strand}\t{gene.start}\t{gene.end}\t{starts}\t{ends}\n")
    return len(genes)
