"""The labelled variant sets of the paper's benchmarks: where they live, fetched once into the cache.

Every file is pinned to a commit of its public repository and read from the raw-file host at
``<base>/<owner>/<repo>/<commit>/<path>`` (``base`` = GitHub's raw host, or ``--mirror URL``
for a copy in that layout), or taken from a folder you already have (``--data-dir``: the file at
``<dir>/<path>`` or ``<dir>/<file name>``). A file's SHA-256 is checked when it is known here;
files whose checksum is not yet recorded here (the project's machines cannot reach the host) get
theirs written beside the cached copy on first fetch (``<file>.sha256``), every later use is
checked against it, and the results name it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from .downloads import ChecksumError, cache_dir, fetch, file_digest, is_offline, writable_dir

RAW_HOST = "https://raw.githubusercontent.com"


@dataclass(frozen=True)
class SourceFile:
    owner: str
    repo: str
    commit: str
    path: str
    sha256: str | None = None  # None: not recorded here yet (see the module docstring)

    def url(self, base: str = RAW_HOST) -> str:
        return f"{base.rstrip('/')}/{self.owner}/{self.repo}/{self.commit}/{self.path}"

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


_MMSPLICE_PAPER = ("gagneurlab", "MMSplice_paper", "89e9885c39604945885b462ff5b7c7f08c47f269")
# the commit of the last change to the authors' script that writes snv_data_clean.txt
_MFASS = ("KosuriLab", "MFASS", "9660bd155b4bc702be54845d66684d480a6d629b")

#: dataset -> its files. Vex-seq: the MMSplice paper's copies of the CAGI5 tables (the training
#: table with its exon +-100 nt sequences, the test table with MMSplice's predictions and the same
#: sequences). MFASS: the authors' cleaned SNV table. MaPSy: the MMSplice paper's table of the
#: CAGI5 MaPSy variants with their reporter sequences and the authors' calls.
DATASETS: dict[str, tuple[SourceFile, ...]] = {
    "vexseq": (
        SourceFile(*_MMSPLICE_PAPER, "data/vexseq/HepG2_delta_PSI_CAGI_training_sided.csv"),
        SourceFile(*_MMSPLICE_PAPER, "data/vexseq/MMSplice_test_pred.csv"),
    ),
    "mfass": (SourceFile(*_MFASS, "processed_data/snv/snv_data_clean.txt"),),
    "mapsy": (SourceFile(*_MMSPLICE_PAPER, "data/mapsy/mapsy.txt"),),
}


def _verified(path: Path, source: SourceFile, record: bool) -> tuple[Path, str]:
    digest = file_digest(path, "sha256")
    expected = source.sha256
    sidecar = Path(f"{path}.sha256")
    if expected is None and sidecar.is_file():
        expected = sidecar.read_text().split()[0]
    if expected is not None and digest != expected:
        raise ChecksumError(f"{path}: SHA-256 {digest} differs from the expected {expected} for {source.url()}: not "
                            "the pinned file (delete it to fetch it again)")
    if expected is None and record:
        sidecar.write_text(f"{digest}  {source.name}\n")
    return path, digest


def dataset_files(name: str, *, mirror: str | None = None, data_dir: str | None = None,
                  progress: bool = True) -> list[tuple[SourceFile, Path, str]]:
    """``(source, local path, sha256)`` of every file of dataset ``name``."""
    if name not in DATASETS:
        raise UserError(f"unknown benchmark {name!r}; choose one of {', '.join(sorted(DATASETS))}")
    if mirror and data_dir:
        raise UserError("--mirror and --data-dir exclude each other: give one source of the files")
    out = []
    for source in DATASETS[name]:
        if data_dir is not None:
            candidates = [Path(data_dir) / source.path, Path(data_dir) / source.name]
            found = next((p for p in candidates if p.is_file()), None)
            if found is None:
                raise UserError(f"--data-dir {data_dir}: neither {candidates[0]} nor {candidates[1]} exists "
                                f"({source.owner}/{source.repo} at {source.commit[:10]})")
            out.append((source, *_verified(found, source, record=False)))
            continue
        target = cache_dir() / "benchmarks" / source.owner / source.repo / source.commit / source.path
        if not target.is_file():
            if is_offline():
                raise UserError(f"{source.name} is not in the cache and downloads are off: fetch it from "
                                f"{source.url()} and pass its folder with --data-dir")
            writable_dir(target.parent, "the benchmark cache")
            fetch(source.url(mirror or RAW_HOST), target, progress=progress)
        out.append((source, *_verified(target, source, record=True)))
    return out
