"""The released weights in one step: the authors' archive into Hub-ready folders in the cache.

``splicebert download [NAME ...|all]`` (and the first use of a name) fetches the authors'
``models.tar.gz`` (Zenodo record 7995778; or a mirror given with ``--from URL --md5 HEX``) once
for all the models asked for, checks its size and MD5 (and, for the official archive, the
SHA-256 of every ``pytorch_model.bin``), extracts only the wanted folders (refusing absolute
paths, ``..`` and links), converts each to a Hub-ready folder (``model.safetensors``, our
config and tokenizer files, the model code, a card) and renames it into
``<cache>/models/<release>/`` only when it loads: a failed or killed download never leaves an
entry that is used. The archive stays in ``<cache>/downloads/`` so that later models need no
second transfer (delete it to save the space).
"""

from __future__ import annotations

import logging
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Sequence

from ..sources.downloads import DownloadError, cache_dir, fetch_first, file_digest, install_dir, writable_dir
from ..sources.releases import RELEASED_MODELS, ZENODO_ARCHIVE, ArchiveSource, get_release
from .hub_folder import convert_checkpoint

log = logging.getLogger(__name__)

#: the files of a release folder in the archive (the metadata ones are optional)
_FILES = ("config.json", "vocab.txt", "pytorch_model.bin", "tokenizer.json", "tokenizer_config.json",
          "special_tokens_map.json")


def models_dir() -> Path:
    return cache_dir() / "models"


def cached_folder(name: str) -> Path | None:
    """The cache entry of release ``name`` when it is complete, else None."""
    folder = models_dir() / get_release(name).name
    return folder if (folder / "config.json").is_file() and (folder / "model.safetensors").is_file() else None


def mirror(url: str, md5: str) -> ArchiveSource:
    """A copy of the authors' archive elsewhere (a mirror, an institutional copy, a local file
    URL). Its MD5 is the one checked; when it is the official archive's, each weight file's
    official SHA-256 is checked too."""
    md5 = md5.strip().lower()
    if len(md5) != 32 or any(c not in "0123456789abcdef" for c in md5):
        raise DownloadError(f"--md5 {md5!r} is not an MD5 digest (32 hex digits)")
    official = md5 == ZENODO_ARCHIVE.md5
    return ArchiveSource(urls=(url,), size=ZENODO_ARCHIVE.size if official else None, md5=md5,
                         weights_sha256=ZENODO_ARCHIVE.weights_sha256 if official else {},
                         folder=ZENODO_ARCHIVE.folder, filename=ZENODO_ARCHIVE.filename)


def _safe_members(tar: tarfile.TarFile, archive: Path) -> dict[str, tarfile.TarInfo]:
    """Every member by name, after refusing the whole archive if any member could escape."""
    members = {}
    for member in tar.getmembers():
        parts = Path(member.name).parts
        if member.name.startswith(("/", "\\")) or ".." in parts or (parts and ":" in parts[0]):
            raise DownloadError(f"{archive} holds an unsafe member {member.name!r} (absolute or '..'); refusing the "
                                "whole archive: delete it and fetch it again from a source you trust")
        if not (member.isfile() or member.isdir()):
            raise DownloadError(f"{archive} holds a link or special file {member.name!r}; refusing the archive")
        members[member.name] = member
    return members


def _extract(tar: tarfile.TarFile, members: dict, prefix: str, target: Path) -> None:
    """Copy the regular files directly under ``prefix`` into ``target`` (by content: no paths
    from the archive are used to write)."""
    target.mkdir(parents=True)
    for name in _FILES:
        member = members.get(f"{prefix}/{name}")
        if member is None or not member.isfile():
            continue
        with tar.extractfile(member) as source, open(target / name, "wb") as sink:
            shutil.copyfileobj(source, sink, 1 << 20)


def download_releases(names: Sequence[str], *, source: ArchiveSource = ZENODO_ARCHIVE, force: bool = False,
                      progress: bool = True) -> list[Path]:
    """Fetch and install the releases ``names`` (``["all"]``: every release); returns their folders.

    Releases already in the cache are kept unless ``force``. Raises :class:`DownloadError`
    (transfer, checksum, unsafe archive, unwritable cache) or ``CheckpointError`` (a folder that
    does not load); in every case nothing new is left in ``models/``.
    """
    wanted = [r.name for r in RELEASED_MODELS] if [n.lower() for n in names] == ["all"] else \
        list(dict.fromkeys(get_release(n).name for n in names))
    if not wanted:
        raise DownloadError("name at least one model to download (or 'all')")
    todo = [name for name in wanted if force or cached_folder(name) is None]
    if todo:
        downloads = writable_dir(cache_dir() / "downloads", "cache folder")
        models = writable_dir(models_dir(), "cache folder")
        archive = downloads / source.filename
        if archive.is_file() and (force or (source.size is not None and archive.stat().st_size != source.size)
                                  or (source.md5 and file_digest(archive, "md5") != source.md5)):
            archive.unlink()  # asked to fetch again, or an archive from another source
        if not archive.is_file():
            fetch_first(source.urls, archive, size=source.size, md5=source.md5, progress=progress)
        _install(archive, todo, source, models, convert_checkpoint)
    return [models_dir() / name for name in wanted]


def _install(archive: Path, names: list[str], source: ArchiveSource, models: Path, convert) -> None:
    try:
        tar = tarfile.open(archive, "r:*")
    except (tarfile.TarError, OSError, EOFError) as error:
        archive.unlink(missing_ok=True)
        raise DownloadError(f"{archive} is not a readable tar archive ({error}); it was removed, fetch it again") from None
    with tar, tempfile.TemporaryDirectory(prefix=".staging-", dir=models) as staging:
        try:
            members = _safe_members(tar, archive)
        except (tarfile.TarError, OSError, EOFError) as error:
            raise DownloadError(f"{archive} is damaged ({error}); delete it and fetch it again") from None
        for name in names:
            prefix = f"{source.folder}/{name}" if source.folder else name
            if f"{prefix}/pytorch_model.bin" not in members:
                raise DownloadError(f"{archive} has no {prefix}/pytorch_model.bin; is it the SpliceBERT models archive?")
            extracted = Path(staging) / f"{name}.original"
            _extract(tar, members, prefix, extracted)
            expected = source.weights_sha256.get(name)
            if expected:
                digest = file_digest(extracted / "pytorch_model.bin", "sha256")
                if digest != expected:
                    raise DownloadError(f"{prefix}/pytorch_model.bin of {archive} has SHA-256 {digest}, not the "
                                        f"released {expected}; delete {archive} and fetch it again")
            converted = convert(extracted, Path(staging) / name)
            install_dir(converted, models / name)
            log.info("installed %s in %s", name, models / name)
            shutil.rmtree(extracted)


def describe_cache() -> str:
    """One line per release: cached or not, and where."""
    lines = []
    for release in RELEASED_MODELS:
        folder = cached_folder(release.name)
        lines.append(f"{release.name}\t{'cached' if folder else 'not cached'}\t{models_dir() / release.name}")
    return "\n".join(lines)
