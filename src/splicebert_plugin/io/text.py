"""Line-by-line reading of the text inputs (VCF, annotation, FASTA): one place for their rules.

Plain or gzip (bgzip) files; a UTF-8 byte-order mark on the first line is dropped; a byte that
is not UTF-8 and a truncated or damaged gzip stream are errors naming the file and the line,
raised as the caller's error type.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path
from typing import BinaryIO, Iterator

GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: str | Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def _bad_byte(raw: BinaryIO, name: str, error_type) -> Exception:
    """The error for the first non-UTF-8 line of ``raw`` (read again from the start)."""
    for lineno, line in enumerate(raw, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as error:
            return error_type(f"{name} line {lineno}: byte 0x{line[error.start]:02x} at column {error.start + 1} is "
                              "not UTF-8 text; convert the file (e.g. iconv -f latin1 -t utf-8)")
    return error_type(f"{name}: not UTF-8 text; convert the file (e.g. iconv -f latin1 -t utf-8)")


def lines(path: str | Path, error_type, *, name: str | None = None) -> Iterator[tuple[int, str]]:
    """``(line number, line without its line break)`` of a plain or gzip text file."""
    path = Path(path)
    name = name or str(path)
    compressed = is_gzip(path)

    def opened():
        return gzip.open(path, "rb") if compressed else open(path, "rb")

    lineno = 0
    try:
        with opened() as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
            for lineno, line in enumerate(text, start=1):
                if lineno == 1 and line.startswith("\ufeff"):
                    line = line[1:]
                yield lineno, line.rstrip("\r\n")
    except UnicodeDecodeError:
        with opened() as raw:
            raise _bad_byte(raw, name, error_type) from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise error_type(f"{name}: the compressed stream ends early or is corrupt after line {lineno} ({error}); "
                         "the file is truncated or damaged: check it with 'gzip -t'") from None


def stream_lines(raw: BinaryIO, error_type, name: str) -> Iterator[str]:
    """Lines of an already open binary stream (standard input), with the same rules."""
    for lineno, line in enumerate(raw, start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            raise error_type(f"{name} line {lineno}: byte 0x{line[error.start]:02x} at column {error.start + 1} is "
                             "not UTF-8 text") from None
        if lineno == 1 and text.startswith("\ufeff"):
            text = text[1:]
        yield text.rstrip("\r\n")
