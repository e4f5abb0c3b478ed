"""Output files that never overwrite an input and never look complete when they are not.

- :func:`check_output_paths` refuses, before anything is written, an output that is an input
  (under any spelling: relative, absolute, through a link), a folder, or in a missing folder.
- :class:`RunFiles` writes each output as text to ``<output>.partial`` next to it, records after
  every chunk how many records are written and how long each file is (``<output>.partial.progress``),
  and renames the finished files into place (BGZF-compressing ``.vcf.gz``, converting Parquet)
  only when the run succeeds. A killed, interrupted or failed run leaves the ``.partial`` files
  and nothing at the output path; ``resume=True`` truncates them to the last recorded chunk and
  continues, so the finished output has the same bytes as an uninterrupted run.
- A run's identity (its inputs' path, size and modification time, and every option that changes
  results) is recorded beside the partial files (``<output>.partial.run``); ``resume`` refuses a
  run whose identity differs, naming what changed.
- One run at a time per output: ``<output>.partial.lock`` is held (``flock``) while a run writes;
  a second run is told that a run is active.
- Outputs that are not regular files (``/dev/null``, ``/dev/stdout``, a FIFO; :func:`is_stream`)
  are written in place as a stream, never replaced by a rename.
- :func:`write_text_atomic` does the same for one small file written at once (summaries).
"""

from __future__ import annotations

import errno
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence
from ..errors import UserError

PARTIAL = ".partial"
PROGRESS = ".progress"
IDENTITY = ".run"
LOCK = ".lock"


class OutputError(UserError):
    """An output path cannot be used, or a run cannot be resumed; the message says why and the fix."""


def same_path(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` and ``b`` name the same file (links, ``..`` and relative spellings resolved)."""
    a, b = Path(a).expanduser(), Path(b).expanduser()
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def is_stream(path: str | Path | None) -> bool:
    """True for ``-`` and for outputs that are not regular files: devices (``/dev/null``,
    ``/dev/full``), FIFOs, and anything under ``/dev`` or ``/proc`` (``/dev/stdout`` is a link to
    whatever standard output is). These are written in place, never renamed over."""
    if path is None:
        return False
    if str(path) == "-":
        return True
    target = Path(path).expanduser()
    if str(target.absolute()).startswith(("/dev/", "/proc/")):
        return True
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return False  # not there yet (or unreadable): a regular file is written
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))  # a folder is refused by check_output_paths


def run_files(path: str | Path) -> list[Path]:
    """Every file a run writes beside the output ``path`` (partial, progress, identity, lock, staging)."""
    partial = _partial(Path(path))
    return [partial, Path(f"{partial}{PROGRESS}"), Path(f"{partial}{IDENTITY}"), Path(f"{partial}{LOCK}"),
            Path(f"{partial}.tmp")]


def check_output_paths(outputs: dict[str, str | None], inputs: dict[str, str | None]) -> None:
    """Refuse outputs that would overwrite an input, each other or each other's working files
    (``X.partial`` ...), are folders, or sit in a missing folder. ``outputs``/``inputs``: option
    name -> path (``None``/``"-"`` skipped; devices and FIFOs are checked against inputs only)."""
    named_inputs = {flag: path for flag, path in inputs.items() if path not in (None, "-")}
    files = {flag: path for flag, path in outputs.items() if path not in (None, "-") and not is_stream(path)}
    for flag, path in files.items():
        for other_flag, other in files.items():
            if other_flag == flag:
                continue
            for helper in run_files(other):
                if same_path(path, helper):
                    raise OutputError(f"{flag} {path} is the working file {helper.name} of {other_flag} {other}; "
                                      "a run would delete it: choose another name")
        for in_flag, in_path in named_inputs.items():
            for helper in run_files(path):
                if same_path(helper, in_path):
                    raise OutputError(f"{flag} {path}: the run's working file {helper} is the input {in_flag}; "
                                      "choose another output name")
    seen: dict[str, str] = {}
    for flag, path in outputs.items():
        if path in (None, "-"):
            continue
        if is_stream(path):
            for in_flag, in_path in named_inputs.items():
                if same_path(path, in_path):
                    raise OutputError(f"{flag} {path} is the input {in_flag} {in_path}; choose another output")
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


def file_identity(path: str | Path) -> str:
    """A file's resolved path, size and modification time: what a resumed run must find unchanged."""
    info = Path(path).stat()
    return f"{Path(path).resolve()} size={info.st_size} mtime_ns={info.st_mtime_ns}"


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

    def __init__(self, targets: Sequence[Target], *, resume: bool = False, command: str = "rerun",
                 identity: dict | None = None):
        if not targets:
            raise ValueError("RunFiles needs at least one output")
        self.targets = list(targets)
        first = _partial(self.targets[0].path)
        self.progress = Path(f"{first}{PROGRESS}")
        self.identity_file = Path(f"{first}{IDENTITY}")
        self._command = command
        self._lock = _acquire_lock(Path(f"{first}{LOCK}"), self.targets[0].path)
        try:
            self._start(resume, identity or {})
        except BaseException:
            self._release()
            raise

    def _start(self, resume: bool, identity: dict) -> None:
        partials = [_partial(t.path) for t in self.targets]
        leftovers = [p for p in [*partials, self.progress, self.identity_file] if p.exists()]
        if resume:
            self._check_identity(identity)
            self.done, sizes = self._resume_point(partials)
            self._handles = [self._open(p, "r+b") for p in partials]
            for handle, size in zip(self._handles, sizes, strict=True):
                handle.truncate(size)
                handle.seek(size)
        else:
            if leftovers:
                raise _leftover_error(leftovers)
            self.done = 0
            self._handles = [self._open(p, "wb") for p in partials]
            self.identity_file.write_text(json.dumps(identity, indent=1, sort_keys=True) + "\n")
            for handle, target in zip(self._handles, self.targets, strict=True):
                handle.write(target.header.encode())
            self._journal()

    def _check_identity(self, identity: dict) -> None:
        """Refuse to resume a run whose inputs or result-changing options differ from this one."""
        if not self.identity_file.is_file():
            raise OutputError(f"nothing to resume: {self.identity_file} does not exist (the partial files are from "
                              "another version or were moved); delete the .partial files and rerun without --resume")
        try:
            recorded = json.loads(self.identity_file.read_text())
        except (json.JSONDecodeError, OSError):
            raise OutputError(f"{self.identity_file} is damaged; delete the .partial files and rerun without --resume") from None
        changed = sorted(k for k in set(recorded) | set(identity) if recorded.get(k) != identity.get(k))
        if changed:
            what = "; ".join(f"{k}: was {recorded.get(k)!r}, now {identity.get(k)!r}" for k in changed[:4])
            raise OutputError(f"cannot resume {self.targets[0].path}: this command differs from the interrupted run "
                              f"({what}); resume with the same inputs and options, or delete the .partial files "
                              "to start over")

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
        for handle in getattr(self, "_handles", []):
            if not handle.closed:
                handle.close()
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            path, handle = self._lock
            path.unlink(missing_ok=True)  # before the unlock: a waiting run then finds no lock to take
            handle.close()
            self._lock = None

    def commit(self) -> None:
        """Write every final file next to its partial, rename it into place, remove the partials."""
        for handle in self._handles:
            handle.close()
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
            self._release()
            raise
        for source, final in ready:
            os.replace(source, final)
        for target in self.targets:
            _partial(target.path).unlink(missing_ok=True)
        self.progress.unlink(missing_ok=True)
        self.identity_file.unlink(missing_ok=True)
        self._release()

    def resume_hint(self) -> str:
        """One sentence for an interrupted or failed run."""
        return (f"partial output ({self.done} records) kept in {_partial(self.targets[0].path)}; "
                f"{self._command} the same command with --resume to continue")


def _leftover_error(leftovers: Sequence[Path]) -> OutputError:
    return OutputError(f"{leftovers[0]} is left from an interrupted run: pass --resume to continue it, or delete "
                       f"{' and '.join(str(p) for p in leftovers)} to start over")


def check_leftovers(outputs: Sequence[str | Path], resume: bool) -> None:
    """Before any work, the refusals :class:`RunFiles` gives when it opens a run: another run
    writing the first output now; ``.partial`` files of an interrupted run (unless ``resume``);
    with ``resume``, nothing to resume. Lets a job fail before it loads a model."""
    check_not_active(outputs[0])
    partials = [_partial(Path(p)) for p in outputs]
    journal = [*partials, Path(f"{partials[0]}{PROGRESS}")]
    if resume:
        missing = next((p for p in journal if not p.exists()), None)
        if missing is not None:
            raise OutputError(f"nothing to resume: {missing} does not exist; run without --resume")
        return
    leftovers = [p for p in [*journal, Path(f"{partials[0]}{IDENTITY}")] if p.exists()]
    if leftovers:
        raise _leftover_error(leftovers)


def check_not_active(output: str | Path) -> None:
    """Raise an :class:`OutputError` when a run is writing ``output`` now (its lock is held)."""
    lock = run_files(output)[3]
    if lock.exists():
        _release_probe(_acquire_lock(lock, Path(output), keep_owner=True))


def _release_probe(held) -> None:
    if held is not None:
        held[1].close()  # unlocks; the file stays for its owner (none: a killed run's, taken over later)


def _acquire_lock(path: Path, output: Path, keep_owner: bool = False):
    """``(path, open handle)`` holding an exclusive ``flock`` on ``path``, or an :class:`OutputError`
    when another process holds it (a run writing the same output now). A lock file left by a
    killed run is not held by anyone and is taken over."""
    import fcntl

    try:
        handle = open(path, "a+")
    except OSError:
        return None  # a folder where the lock cannot be created fails at the partial files, with their message
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise OutputError(f"another run is writing {output} now (process {owner}); wait for it to finish, or "
                          "choose another output") from None
    if not keep_owner:
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
    return path, handle
