"""Folders generated from the package (``hub_models/``, ``kipoi_models/``): drift detection."""

from __future__ import annotations

import filecmp
import tempfile
from pathlib import Path
from typing import Callable


def drifted_files(out: str | Path, export: Callable[[Path], object]) -> list[str]:
    """Files under ``out`` that differ from a fresh ``export(folder)`` (missing, extra or changed)."""
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        export(Path(tmp))
        fresh = {p.relative_to(tmp): p for p in Path(tmp).rglob("*") if p.is_file()}
        current = {}
        if out.is_dir():
            current = {p.relative_to(out): p for p in out.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
        names = sorted(set(fresh) | set(current))
        return [
            str(name)
            for name in names
            if name not in fresh or name not in current or not filecmp.cmp(fresh[name], current[name], shallow=False)
        ]
