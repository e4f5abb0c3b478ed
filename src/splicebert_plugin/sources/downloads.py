"""Fetching files into the cache over HTTP(S): resumable, checked, never half-done.

The cache (``$SPLICEBERT_CACHE``, default ``splicebert/`` under the Hugging Face cache home,
``$HF_HOME`` or ``~/.cache/huggingface``) holds the released models as Hub-ready folders
(``models/<release>/``), the archives they came from (``downloads/``) and the derived built-in
annotations (``annotations/``). Every entry is written under a temporary name and renamed into
place when complete and checked, so a killed or failed download never leaves an entry that is
used. A transfer that stops part-way keeps its ``.part`` file and the next attempt continues it
(HTTP ``Range``).
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Sequence

from ..errors import UserError

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_TRUE = ("1", "ON", "YES", "TRUE")


class DownloadError(UserError):
    """A download failed or its result did not check out; the message says what and the fix."""


class OfflineError(DownloadError):
    """A transfer was needed while downloads are off (``HF_HUB_OFFLINE`` or ``--offline``)."""


class ChecksumError(DownloadError):
    """A downloaded file is complete but not the expected one (size or checksum)."""


def cache_dir() -> Path:
    """The cache root: ``$SPLICEBERT_CACHE``, else ``$HF_HOME/splicebert`` (``~/.cache/huggingface/splicebert``)."""
    explicit = os.environ.get("SPLICEBERT_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface")
    return Path(home).expanduser() / "splicebert"


def is_offline(offline: bool = False) -> bool:
    """``offline`` or ``HF_HUB_OFFLINE`` set (the Hugging Face convention)."""
    return offline or os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in _TRUE


def writable_dir(path: Path, what: str) -> Path:
    """Create ``path`` (and parents) or raise a :class:`DownloadError` naming it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise DownloadError(f"cannot write the {what} {path} ({error.strerror or error}); set SPLICEBERT_CACHE to a "
                            "folder you can write to") from None
    return path


def file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _open(url: str, start: int, timeout: float):
    headers = {"User-Agent": "splicebert-plugin"}
    if start:
        headers["Range"] = f"bytes={start}-"
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)


def fetch(url: str, target: Path, *, size: int | None = None, md5: str | None = None, progress: bool = True,
          timeout: float = 60.0) -> Path:
    """Download ``url`` to ``target``, resuming ``target.part`` if an earlier transfer stopped.

    ``size``/``md5`` (when given) are checked before ``target`` appears; a file that fails the
    check is deleted (it would never pass). Returns ``target``.
    """
    from tqdm import tqdm

    if is_offline():
        raise OfflineError(f"{url} is needed but downloads are off (HF_HUB_OFFLINE is set): fetch {target.name} on a "
                           f"connected machine and place it at {target}, or unset HF_HUB_OFFLINE")
    part = target.with_name(target.name + ".part")
    start = part.stat().st_size if part.exists() else 0
    if size is not None and start > size:
        part.unlink()
        start = 0
    try:
        response = _open(url, start, timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and size is not None and start == size:  # already complete
            response = None
        else:
            raise DownloadError(f"{url}: the server answered HTTP {error.code} ({error.reason})") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(f"cannot reach {url} ({reason}); check the connection, or fetch the file on a connected "
                            "machine and pass it with --from") from None
    if response is not None:
        with response:
            if start and response.status != 206:  # the server ignored the range: start again
                start = 0
            length = response.headers.get("Content-Length")
            expected = start + int(length) if length is not None else size
            bar = tqdm(total=expected, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
                       desc=target.name, file=sys.stderr, disable=not progress)
            try:
                with open(part, "ab" if start else "wb") as handle:
                    while True:
                        try:
                            block = response.read(_CHUNK)
                        except (OSError, ValueError, http.client.HTTPException) as error:
                            raise DownloadError(f"{url}: the transfer broke off after {handle.tell():,} bytes "
                                                f"({error}); rerun the same command to resume it") from None
                        if not block:
                            break
                        handle.write(block)
                        bar.update(len(block))
                    received = handle.tell()
            finally:
                bar.close()
            if expected is not None and received < expected:
                raise DownloadError(f"{url}: the transfer stopped after {received:,} of {expected:,} bytes; rerun the "
                                    "same command to resume it")
    return _checked(part, target, url, size, md5)


def _checked(part: Path, target: Path, url: str, size: int | None, md5: str | None) -> Path:
    actual = part.stat().st_size
    if size is not None and actual != size:
        part.unlink()
        raise ChecksumError(f"{url}: got {actual:,} bytes, expected {size:,}; the partial file was removed, try again")
    if md5 is not None:
        digest = file_digest(part, "md5")
        if digest != md5.lower():
            part.unlink()
            raise ChecksumError(f"{url}: MD5 {digest} differs from the expected {md5.lower()}: the file is damaged "
                                "or not the expected one (removed); try again, or check the source")
    os.replace(part, target)
    return target


def fetch_first(urls: Sequence[str], target: Path, **kwargs) -> Path:
    """:func:`fetch` from the first URL that answers; a checksum failure is not retried elsewhere."""
    errors = []
    for url in urls:
        try:
            return fetch(url, target, **kwargs)
        except (ChecksumError, OfflineError):
            raise
        except DownloadError as error:
            errors.append(str(error))
            log.warning("%s", error)
    raise DownloadError(errors[-1] if len(errors) == 1 else "no source answered: " + "; ".join(errors))


def install_dir(staging: Path, final: Path) -> Path:
    """Rename a finished ``staging`` folder to ``final`` (replacing an older entry)."""
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    return final
