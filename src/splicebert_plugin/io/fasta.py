"""Reading and writing FASTA files as sequences (the one place FASTA text is parsed).

Indexed random access to a genome is ``io.genome.Genome``; this module reads whole records:
the sequences of ``splicebert ism`` / ``fill-mask``, corpus inputs without annotation, and the
genome pieces of the training recipes. Plain or gzip; a UTF-8 byte-order mark is accepted; a
byte that is not UTF-8 is an error naming the file and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from .text import lines as text_lines
from ..errors import UserError


class FastaError(UserError):
    """A FASTA file cannot be read; the message names the file, the line and the fix."""


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    if not path.is_file():
        raise FastaError(f"FASTA file {path} does not exist")
    return text_lines(path, FastaError)


def read_fasta(path: str | Path) -> Iterator[tuple[str, str]]:
    """``(name, sequence)`` of every record (name = the header's first word; sequence as written)."""
    path = Path(path)
    name, parts = None, []
    for lineno, line in _lines(path):
        line = line.strip()
        if line.startswith(">"):
            if name is not None:
                yield name, "".join(parts)
            name, parts = (line[1:].split() or [""])[0], []
        elif line and name is None:
            raise FastaError(f"{path} line {lineno}: sequence before the first '>' header; is this FASTA?")
        elif line and not line.startswith(";"):
            parts.append(line)
    if name is None:
        raise FastaError(f"{path} is not FASTA: no line starts with '>'")
    yield name, "".join(parts)


def read_one_sequence(path: str | Path) -> tuple[str, str]:
    """The first record of a FASTA file: ``(full header line without '>', sequence)``."""
    path = Path(path)
    header = None
    for _, line in _lines(path):
        if line.startswith(">"):
            header = line[1:].strip()
            break
        if line.strip():
            break
    if header is None:
        raise FastaError(f"{path} is not FASTA: the first line must start with '>'")
    return header, next(read_fasta(path))[1]


def write_fasta(path: str | Path, records: Iterable[tuple[str, str]], *, index: bool = True, width: int = 60) -> None:
    """Write ``(name, sequence)`` records as ``width``-column FASTA, with a ``.fai`` index if ``index``."""
    path = Path(path)
    with open(path, "w") as handle:
        for name, sequence in records:
            handle.write(f">{name}\n" + "".join(sequence[i : i + width] + "\n" for i in range(0, len(sequence), width)))
    if index:
        import pyfaidx

        pyfaidx.Faidx(str(path)).close()
