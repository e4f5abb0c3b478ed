"""``score --precomputed``: SNV results read from ``splicebert precompute`` files (tabix queries)."""

from __future__ import annotations

from typing import Sequence

from ..errors import UserError
from ..io.tabix import TabixTable
from .precompute import SHARD_PREFIX, Settings, record_from_rows


class PrecomputedLookup:
    """Scores of SNVs read from precomputed files (the first file holding a position answers)."""

    def __init__(self, paths: Sequence[str]):
        self.tables = [TabixTable(p) for p in paths]
        self.settings = [Settings.from_header(t.header, str(t.path)) for t in self.tables]
        for table in self.tables:
            if any(line.startswith(SHARD_PREFIX) for line in table.header):
                raise UserError(f"{table.path} is one shard of a run: merge the shards first "
                                "(splicebert precompute-merge)")

    def check(self, settings: Settings) -> None:
        """Refuse files made with another model or other settings."""
        for table, theirs in zip(self.tables, self.settings, strict=True):
            differences = theirs.differences(settings)
            if differences:
                raise UserError(f"--precomputed {table.path} was made with other settings ({'; '.join(differences)}); "
                                "use a file made with this model and these options, or drop it")

    def result(self, record, contig: str | None):
        if contig is None:
            return None
        for table, settings in zip(self.tables, self.settings, strict=True):
            rows = table.rows(contig, record.pos)
            if rows:
                return record_from_rows(record, rows, settings.scores)
        return None

    def close(self) -> None:
        for table in self.tables:
            table.close()

