"""Reference genome access through pyfaidx (indexed FASTA, plain or bgzip)."""

from __future__ import annotations

from pathlib import Path


class GenomeError(ValueError):
    """The genome FASTA cannot be used; the message names the file and the fix."""


class Genome:
    """An indexed FASTA opened read-only; sequence outside a contig reads as ``N``.

    The index (``.fai``, and ``.gzi`` for bgzip) must exist: this class never writes next to
    the input. Create it with ``samtools faidx genome.fa`` (or ``pyfaidx genome.fa``).
    """

    def __init__(self, path: str | Path):
        import pyfaidx

        self.path = Path(path)
        if not self.path.is_file():
            raise GenomeError(f"genome FASTA {self.path} does not exist; pass the reference with -R")
        index = Path(str(self.path) + ".fai")
        if not index.is_file():
            raise GenomeError(
                f"genome FASTA {self.path} has no index {index.name}; create it with "
                f"'samtools faidx {self.path}' (or 'pyfaidx {self.path}')"
            )
        with open(self.path, "rb") as handle:
            magic = handle.read(2)
        if magic == b"\x1f\x8b" and not Path(str(self.path) + ".gzi").is_file():
            raise GenomeError(
                f"genome FASTA {self.path} is gzip-compressed without a bgzip index (.gzi); recompress it with "
                f"'bgzip' and index it with 'samtools faidx', or decompress it"
            )
        try:
            self._fasta = pyfaidx.Fasta(str(self.path), as_raw=True, rebuild=False, build_index=False)
        except Exception as error:  # pyfaidx raises several unrelated types for unreadable files
            raise GenomeError(f"cannot read genome FASTA {self.path}: {error}") from None
        self.lengths = {name: len(record) for name, record in self._fasta.records.items()}

    @property
    def contigs(self) -> list[str]:
        return list(self.lengths)

    def fetch(self, contig: str, start: int, end: int) -> tuple[str, bool]:
        """Upper-case sequence of ``contig[start:end]`` (0-based, half-open), N-padded off the contig.

        Returns ``(sequence, off_contig)``; ``off_contig`` tells that padding was needed.
        """
        length = self.lengths[contig]
        left, right = max(0, start), min(length, end)
        body = str(self._fasta[contig][left:right]).upper() if right > left else ""
        prefix = "N" * (min(end, 0) - start if start < 0 else 0)
        suffix = "N" * (end - max(length, start) if end > length else 0)
        sequence = prefix + body + suffix
        return sequence, bool(prefix or suffix)

    def close(self) -> None:
        self._fasta.close()

    def __enter__(self) -> "Genome":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
