"""Result tables: TSV text while a run is in progress, then TSV, gzipped TSV or Parquet.

Rows are written as TSV lines (missing values and NaN as empty fields, floats in their
shortest round-trip form), so a partial table can be resumed by byte offset; at the end the
TSV text is renamed, gzipped or converted to Parquet with typed columns.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import shutil
from pathlib import Path
from typing import Iterable, Sequence
from ..errors import UserError

TABLE_FORMATS = (".tsv", ".tsv.gz", ".parquet")


def table_format(path: str | Path) -> str:
    """The format ``path`` asks for (by its extension), or a :class:`ValueError` listing them."""
    name = str(path)
    for ext in (".tsv.gz", ".parquet", ".tsv"):
        if name.endswith(ext):
            return ext
    raise UserError(f"table {path}: unknown format; name it *.tsv, *.tsv.gz or *.parquet")


def _cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def tsv_lines(rows: Iterable[Sequence]) -> str:
    """TSV text of ``rows`` (``None`` and NaN as empty fields)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue()


def finish_table(source: Path, target: Path, *, fmt: str, columns: Sequence[str], integer: set[str],
                 floating: set[str]) -> None:
    """Turn the TSV text ``source`` into the table ``target`` in format ``fmt`` (:data:`TABLE_FORMATS`).

    ``integer``/``floating``: the columns typed int64 (missing: null) and float64 (missing: NaN)
    in Parquet; the others are strings.
    """
    if fmt not in TABLE_FORMATS:
        raise UserError(f"table format {fmt!r}: choose one of {TABLE_FORMATS}")
    if fmt == ".tsv":
        shutil.copyfile(source, target)
    elif fmt == ".tsv.gz":
        with open(source, "rb") as src, open(target, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as dst:  # same bytes every run
                shutil.copyfileobj(src, dst, 1 << 20)
    else:
        _tsv_to_parquet(source, target, columns, integer, floating)


def _tsv_to_parquet(source: Path, target: Path, columns: Sequence[str], integer: set[str], floating: set[str],
                    batch: int = 65536) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    def typed(name, values):
        if name in integer:
            return pa.array([int(v) if v else None for v in values], type=pa.int64())
        if name in floating:
            return pa.array([float(v) if v else math.nan for v in values], type=pa.float64())
        return pa.array(values, type=pa.string())

    schema = pa.schema([(name, pa.int64() if name in integer else pa.float64() if name in floating else pa.string())
                        for name in columns])
    with open(source, newline="") as handle, pq.ParquetWriter(str(target), schema) as writer:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader, None)
        if header != list(columns):
            raise UserError(f"{source}: table header {header} differs from {list(columns)}")
        rows, written = [], False
        for row in reader:
            rows.append(row)
            if len(rows) >= batch:
                writer.write_table(_arrow_table(rows, columns, schema, typed))
                rows, written = [], True
        if rows or not written:
            writer.write_table(_arrow_table(rows, columns, schema, typed))


def _arrow_table(rows, columns, schema, typed):
    import pyarrow as pa

    cells = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    return pa.Table.from_arrays([typed(name, list(values)) for name, values in zip(columns, cells, strict=True)],
                                schema=schema)


def read_table(path: str):
    """A TSV (plain or gzip) or Parquet table as a DataFrame (strings kept as written)."""
    import pandas as pd

    if not Path(path).is_file():
        raise UserError(f"table {path} does not exist")
    if str(path).endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_values=[""], comment=None)


def tsv_text(rows: list[dict]) -> str:
    """Rows (dicts with the same keys) as plain TSV text with a header line."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else [], delimiter="\t", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_tsv(path: str, rows: list[dict]) -> None:
    """Rows (dicts with the same keys) as a plain TSV with a header line."""
    with open(path, "w", newline="") as handle:
        handle.write(tsv_text(rows))
