"""Contig-name reconciliation between VCF, FASTA and annotation (the one place it is defined)."""

from __future__ import annotations

from typing import Iterable
from ..errors import UserError


class ContigMismatchError(UserError):
    """Two inputs share no contig name, even after reconciling ``chr`` prefixes."""


def _aliases(name: str) -> list[str]:
    if name in ("chrM", "chrMT"):
        return [name, "MT", "M", "chrM", "chrMT"]
    if name in ("MT", "M"):
        return [name, "chrM", "chrMT", "MT", "M"]
    if name.startswith("chr"):
        return [name, name[3:]]
    return [name, "chr" + name]


class ContigMap:
    """Maps names used by one input onto the names of a reference input (usually the FASTA)."""

    def __init__(self, reference: Iterable[str], reference_label: str):
        self.reference = list(reference)
        self._known = set(self.reference)
        self.reference_label = reference_label
        self._cache: dict[str, str | None] = {}

    def get(self, name: str) -> str | None:
        """The reference's name for ``name`` (``chr1`` <-> ``1``, ``chrM`` <-> ``MT``), or None."""
        if name not in self._cache:
            self._cache[name] = next((alias for alias in _aliases(name) if alias in self._known), None)
        return self._cache[name]

    def require_overlap(self, names: Iterable[str], label: str) -> None:
        """Raise :class:`ContigMismatchError` if none of ``names`` maps onto the reference."""
        names = list(dict.fromkeys(names))
        if names and not any(self.get(name) is not None for name in names):
            raise ContigMismatchError(
                f"no contig of {label} is in {self.reference_label}, even with 'chr' prefixes reconciled: "
                f"{label} has {_preview(names)}; {self.reference_label} has {_preview(self.reference)}. "
                "Use a genome and an annotation of the same assembly as the variants."
            )


def _preview(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
