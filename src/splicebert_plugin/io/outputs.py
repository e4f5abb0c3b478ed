"""Output files that never overwrite an input and never look complete when they are not.

- :func:`check_output_paths` refuses, before anything is written, an output that is an input
  (under any spelling: relative, absolute, through a link), a folder, or in a missing folder.
- :class:`RunFiles` writes each output as text to ``<output>.partial`` next to it, records after
  every chunk how many records are written and how long each file is (``<output>.partial.progress``),
  and renames the finished files into place (BGZF-compressing ``.vcf.gz``, converting Parquet)
  only when the run succeeds. A killed, interrupted or failed run leaves the ``.partial`` files
  and nothing at the output path; ``resume=True`` truncates them to the last recorded chunk and
  continues, so the finished output has the same bytes as an uninterrupted run.
- :func:`write_text_atomic` does the same for one small file written at once (summaries).
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

PARTIAL = ".partial"
PROGRESS = ".progress"


class OutputError(ValueError):
    """An output path cannot be used, or a run cannot be resumed; the message says why and the fix."""


def same_path(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` and ``b`` name the same file (links, ``..`` and relative spellings resolved)."""
    a, b = Path(a).expanduser(), Path(b).expanduser()
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def check_output_paths(outputs: dict[str, str | None], inputs: dict[str, str | None]) -> None:
    """Refuse outputs that would overwrite an input or each other, are folders, or sit in a
    missing folder. ``outputs``/``inputs``: option name -> path (``None``/``"-"`` skipped)."""
    named_inputs = {flag: path for flag, path in inputs.items() if path not in (None, "-")}
    seen: dict[str, str] = {}
    for flag, path in outputs.items():
        if path in (None, "-"):
            continue
        target = Path(path).expanduser()
        if target.is_dir():
            raise OutputError(f"{flag} {path} is a folder; give a file name, e.g. {Path(path) / 'out.vcf.gz'}")
        if not target.parent.is_dir():
            raise OutputError(f"{flag} {path}: its folder {target.parent} does not exist; create it first")
        for in_flag, in_path in named_inputs.items():
            if same_path(target, in_path):
                raise OutputError(f"{flag} {path} is the input {in_flag} {in_path}; writing it would destroy the "
                                  "input: choose another output name")
        for other_flag, other in seen.items():
            if same_path(target, other):
                raise OutputError(f"{flag} {path} and {other_flag} {other} are the same file; give them different names")
        seen[flag] = path


@dataclass(frozen=True)
class Target:
    """One output file: its final ``path``, the ``header`` text that opens it, and ``finish(text
    file, final file)`` that writes the final format from the finished text."""

    path: Path
    header: str
    finish: Callable[[Path, Path], None] | None = None  # None: the text is the final file


def _partial(path: Path) -> Path:
    return Path(f"{path}{PARTIAL}")


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``<path>.partial`` and rename it into place: ``path`` is either absent,
    its old content or all of ``text``, never a truncated file (a run's "done" marker)."""
    partial = _partial(Path(path))
    partial.write_text(text)
    os.replace(partial, path)


class RunFiles:
    """The ``.partial`` files of one run (see the module docstring).

    ``done`` is the number of input records already written (0 unless resumed).
    """

    def __init__(self, targets: Sequence[Target], *, resume: bool = False, command: str = "rerun"):
        if not targets:
            raise ValueError("RunFiles needs at least one output")
        self.targets = list(targets)
        self.progress = Path(f"{_partial(self.targets[0].path)}{PROGRESS}")
        self._command = command
        partials = [_partial(t.path) for t in self.targets]
        leftovers = [p for p in [*partials, self.progress] if p.exists()]
        if resume:
            self.done, sizes = self._resume_point(partials)
            self._handles = [self._open(p, "r+b") for p in partials]
            for handle, size in zip(self._handles, sizes, strict=True):
                handle.truncate(size)
                handle.seek(size)
        else:
            if leftovers:
                raise OutputError(
                    f"{leftovers[0]} is left from an interrupted run: pass --resume to continue it, or delete "
                    f"{' and '.join(str(p) for p in leftovers)} to start over"
                )
            self.done = 0
            self._handles = [self._open(p, "wb") for p in partials]
            for handle, target in zip(self._handles, self.targets, strict=True):
                handle.write(target.header.encode())
            self._journal()

    @staticmethod
    def _open(path: Path, mode: str):
        try:
            return open(path, mode)
        except PermissionError:
            raise OutputError(f"cannot write {path}: permission denied; choose a folder you can write to") from None
        except OSError as error:
            if error.errno == errno.EROFS:
                raise OutputError(f"cannot write {path}: read-only file system; choose another folder") from None
            raise

    def _resume_point(self, partials: list[Path]) -> tuple[int, list[int]]:
        missing = [p for p in [*partials, self.progress] if not p.is_file()]
        if missing:
            raise OutputError(f"nothing to resume: {missing[0]} does not exist (a run with these outputs was not "
                              "interrupted, or its partial files were removed); run without --resume")
        entries = []
        for line in self.progress.read_text().split("\n")[:-1]:  # a torn last line has no newline
            fields = line.split("\t")
            if len(fields) == 1 + len(partials):
                entries.append([int(f) for f in fields])
        if not entries:
            raise OutputError(f"{self.progress} is damaged; delete the .partial files and rerun without --resume")
        done, *sizes = entries[-1]
        for path, target, size in zip(partials, self.targets, sizes, strict=True):
            with open(path, "rb") as handle:
                head = handle.read(len(target.header.encode()))
            if head != target.header.encode():
                raise OutputError(
                    f"{path} was written with other settings (model, window, scores or outputs differ from this "
                    f"command); resume with the same command, or delete the .partial files to start over"
                )
            if path.stat().st_size < size:
                raise OutputError(f"{path} is shorter than its progress record says; delete the .partial files "
                                  "and rerun without --resume")
        return done, sizes

    def _journal(self) -> None:
        sizes = [handle.tell() for handle in self._handles]
        with open(self.progress, "a") as journal:
            journal.write("\t".join(str(v) for v in [self.done, *sizes]) + "\n")
            journal.flush()
            os.fsync(journal.fileno())

    def append(self, texts: Sequence[str], records: int) -> None:
        """Append one chunk (a text per output, in target order) covering ``records`` input records."""
        for handle, text in zip(self._handles, texts, strict=True):
            handle.write(text.encode())
        for handle in self._handles:
            handle.flush()
            os.fsync(handle.fileno())
        self.done += records
        self._journal()

    def close(self) -> None:
        """Close the files and keep them (an unfinished run); :meth:`commit` finishes a run."""
        for handle in self._handles:
            if not handle.closed:
                handle.close()

    def commit(self) -> None:
        """Write every final file next to its partial, rename it into place, remove the partials."""
        self.close()
        ready = []  # every final file is written before any is renamed into place
        try:
            for target in self.targets:
                partial = _partial(target.path)
                if target.finish is None:
                    ready.append((partial, target.path))
                    continue
                staging = Path(f"{partial}.tmp")
                target.finish(partial, staging)
                ready.append((staging, target.path))
        except BaseException:
            for staging, _ in ready:
                if staging.suffix == ".tmp":
                    staging.unlink(missing_ok=True)
            raise
        for source, final in ready:
            os.replace(source, final)
        for target in self.targets:
            _partial(target.path).unlink(missing_ok=True)
        self.progress.unlink(missing_ok=True)

    def resume_hint(self) -> str:
        """One sentence for an interrupted or failed run."""
        return (f"partial output ({self.done} records) kept in {_partial(self.targets[0].path)}; "
                f"{self._command} the same command with --resume to continue")
