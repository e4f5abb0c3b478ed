"""Released weights by name: the authors' archive from a local server, checked, converted, cached,
then loaded by name offline; every failure leaves nothing in the cache that loads."""

import hashlib
import io
import tarfile

import pytest
import torch
from transformers import BertForMaskedLM

from splicebert_plugin.checkpoints import load_masked_lm
from splicebert_plugin.cli.main import main
from splicebert_plugin.sources.downloads import DownloadError
from splicebert_plugin.checkpoints import resolve_model
from splicebert_plugin.sources.releases import ArchiveSource, find_release
from splicebert_plugin.checkpoints.install import download_releases

from .conftest import TINY, build_original_checkpoint, cli_error, random_ids

RELEASES = ("SpliceBERT.1024nt", "SpliceBERT.510nt", "SpliceBERT-human.510nt")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    """The three releases in the exact original format (tiny random weights)."""
    root = tmp_path_factory.mktemp("releases") / "models"
    return {name: build_original_checkpoint(root / name, name, seed=i, shrink=TINY) for i, name in enumerate(RELEASES)}


def make_archive(originals, extra=None) -> bytes:
    """models.tar.gz in the Zenodo layout: models/<release>/<the six files>."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, folder in originals.items():
            for item in sorted(folder.iterdir()):
                tar.add(item, arcname=f"models/{name}/{item.name}")
        for arcname, data in (extra or {}).items():
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def archive(originals) -> bytes:
    return make_archive(originals)


def served(file_server, data: bytes, name="models.tar.gz") -> str:
    (file_server.root / name).write_bytes(data)
    return file_server.url(name)


def download(url, digest, *names):
    return ["download", *names, "--from", url, "--md5", digest, "-q"]


def test_download_convert_cache_then_load_by_name_offline(file_server, cache, originals, archive, capsys,
                                                          monkeypatch):
    url = served(file_server, archive)
    assert main(download(url, md5(archive), "SpliceBERT.510nt")) == 0
    assert capsys.readouterr().out.split("\t")[0] == "SpliceBERT.510nt"
    folder = cache / "models/SpliceBERT.510nt"
    assert {"model.safetensors", "config.json", "vocab.txt", "tokenizer.json", "README.md"} <= \
        {p.name for p in folder.iterdir()}
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    reference = BertForMaskedLM.from_pretrained(str(originals["SpliceBERT.510nt"])).eval()
    ids = random_ids(2, 100, seed=11)
    for spelling in ("SpliceBERT.510nt", "splicebert.510", "SPLICEBERT.510NT"):
        model, label = resolve_model(spelling)
        with torch.no_grad():
            assert torch.equal(model(ids).logits, reference(ids).logits), spelling
        assert label == "SpliceBERT.510nt"
    assert isinstance(load_masked_lm("splicebert.510"), type(model))  # names work in load_masked_lm too
    # a second model comes from the archive already in the cache: no second transfer
    monkeypatch.delenv("HF_HUB_OFFLINE")
    transfers = len(file_server.requests)
    assert main(download(url, md5(archive), "splicebert-human.510")) == 0
    assert len(file_server.requests) == transfers
    assert (cache / "models/SpliceBERT-human.510nt/model.safetensors").is_file()
    assert main(["download", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "SpliceBERT-human.510nt\tcached" in listing and "SpliceBERT.1024nt\tnot cached" in listing


def test_official_checks_of_every_weight_file(file_server, cache, originals, archive):
    url = served(file_server, archive)
    digests = {name: hashlib.sha256((folder / "pytorch_model.bin").read_bytes()).hexdigest()
               for name, folder in originals.items()}
    source = ArchiveSource(urls=(url,), size=len(archive), md5=md5(archive), weights_sha256=digests)
    folders = download_releases(["all"], source=source, progress=False)
    assert [f.name for f in folders] == list(RELEASES)
    wrong = ArchiveSource(urls=(url,), size=len(archive), md5=md5(archive),
                          weights_sha256={**digests, "SpliceBERT.1024nt": "0" * 64})
    with pytest.raises(DownloadError, match="SHA-256"):
        download_releases(["SpliceBERT.1024nt"], source=wrong, force=True, progress=False)
    with pytest.raises(DownloadError, match="expected"):
        download_releases(["SpliceBERT.510nt"], force=True, progress=False,
                          source=ArchiveSource(urls=(url,), size=len(archive) + 1, md5=None))


def _nothing_loads(cache, monkeypatch, capsys):
    models = cache / "models"
    assert not models.exists() or not [p for p in models.iterdir() if not p.name.startswith(".")]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    line = cli_error(["fill-mask", "-m", "SpliceBERT.510nt", "--sequence", "ACGT", "--positions", "1"], capsys)
    assert "splicebert download SpliceBERT.510nt" in line and str(cache) in line
    monkeypatch.delenv("HF_HUB_OFFLINE")


def test_wrong_checksum_leaves_nothing(file_server, cache, archive, capsys, monkeypatch):
    url = served(file_server, archive)
    line = cli_error(download(url, "0" * 32, "SpliceBERT.510nt"), capsys)
    assert "MD5" in line and "differs" in line
    assert not list((cache / "downloads").iterdir())  # the damaged file is gone
    _nothing_loads(cache, monkeypatch, capsys)


def test_interrupted_transfer_resumes_with_range(file_server, cache, archive, capsys, monkeypatch):
    url = served(file_server, archive)
    file_server.cut_after = len(archive) // 3
    line = cli_error(download(url, md5(archive), "SpliceBERT.510nt"), capsys)
    assert "rerun the same command to resume" in line
    part = cache / "downloads/models.tar.gz.part"
    assert part.stat().st_size == len(archive) // 3
    _nothing_loads(cache, monkeypatch, capsys)
    assert main(download(url, md5(archive), "SpliceBERT.510nt")) == 0
    assert file_server.requests[-1][1] == f"bytes={len(archive) // 3}-"
    assert (cache / "models/SpliceBERT.510nt/model.safetensors").is_file() and not part.exists()


def test_server_that_ignores_ranges_restarts_cleanly(file_server, cache, archive):
    url = served(file_server, archive)
    file_server.cut_after = 1000
    with pytest.raises(DownloadError):
        download_releases(["SpliceBERT.510nt"], source=ArchiveSource((url,), len(archive), md5(archive)),
                          progress=False)
    file_server.ignore_range = True
    download_releases(["SpliceBERT.510nt"], source=ArchiveSource((url,), len(archive), md5(archive)), progress=False)
    assert (cache / "models/SpliceBERT.510nt/model.safetensors").is_file()


def test_connection_refused_and_unwritable_cache(cache, archive, capsys, monkeypatch):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = cli_error(download(f"http://127.0.0.1:{port}/models.tar.gz", md5(archive), "SpliceBERT.510nt"), capsys)
    assert "cannot reach" in line
    monkeypatch.setenv("SPLICEBERT_CACHE", "/proc/splicebert-cache")  # never writable
    line = cli_error(download("http://127.0.0.1:1/x", md5(archive), "SpliceBERT.510nt"), capsys)
    assert "cannot write the cache folder /proc/splicebert-cache" in line


@pytest.mark.parametrize("bad", ["../evil.txt", "/etc/evil", "models/../../evil"])
def test_archive_with_an_escaping_member_is_refused(file_server, cache, originals, bad, capsys, monkeypatch):
    data = make_archive(originals, extra={bad: b"boom"})
    url = served(file_server, data)
    line = cli_error(download(url, md5(data), "SpliceBERT.510nt"), capsys)
    assert "unsafe member" in line
    assert not (cache.parent / "evil.txt").exists()
    _nothing_loads(cache, monkeypatch, capsys)


def test_names_and_usage_errors(capsys, cache):
    assert find_release("SpliceBERT-HUMAN.510NT").name == "SpliceBERT-human.510nt"
    assert find_release("splicebert").name == "SpliceBERT.1024nt"
    assert find_release("SpliceBERT.2048nt") is None
    assert "name the models" in cli_error(["download"], capsys)
    assert "--md5" in cli_error(["download", "SpliceBERT.510nt", "--from", "http://x/y"], capsys)
    assert "not a released" in cli_error(["download", "SpliceBERT.2048nt", "--from", "http://x", "--md5", "0" * 32],
                                         capsys)


def test_kipoi_model_takes_a_release_name(file_server, cache, archive, monkeypatch):
    from splicebert_plugin.scoring.kipoi_adapter import VariantEffectModel

    url = served(file_server, archive)
    assert main(download(url, md5(archive), "SpliceBERT.1024nt")) == 0
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = VariantEffectModel("SpliceBERT.1024nt", folder=str(cache))
    assert model.label == "SpliceBERT.1024nt" and model.model.config.max_position_embeddings == 1026


def test_offline_download_makes_no_transfer(file_server, cache, archive, capsys, monkeypatch):
    """HF_HUB_OFFLINE=1 means no network at all: `splicebert download` (and a name's first use)
    refuse with one line and the server sees no request."""
    url = served(file_server, archive)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    line = cli_error(download(url, md5(archive), "SpliceBERT.510nt"), capsys)
    assert "HF_HUB_OFFLINE" in line
    assert "HF_HUB_OFFLINE" in cli_error(["fill-mask", "-m", "SpliceBERT.510nt", "--sequence", "ACGT"], capsys)
    assert file_server.requests == []
    assert not (cache / "models/SpliceBERT.510nt").exists()


@pytest.mark.parametrize("implementation", ["eager", "sdpa"])
def test_a_release_fetched_by_name_equals_transformers_bert_exactly(implementation, file_server, cache, originals,
                                                                   archive, monkeypatch):
    """The cached folder of a release gives bit-identical logits to the authors' checkpoint in
    transformers' own BertForMaskedLM under the same attention implementation, with padding, and
    (eager) with attention maps. Between implementations transformers itself differs by float
    rounding (about 2e-4 at full size with these weights): compare like with like."""
    url = served(file_server, archive)
    assert main(download(url, md5(archive), "SpliceBERT.510nt")) == 0
    reference = BertForMaskedLM.from_pretrained(str(originals["SpliceBERT.510nt"]),
                                                attn_implementation=implementation).eval()
    ours = load_masked_lm("SpliceBERT.510nt", attn_implementation=implementation).eval()
    assert ours.config._attn_implementation == implementation
    ids = random_ids(2, 120, seed=3)
    mask = torch.ones_like(ids)
    mask[1, 80:] = 0
    with torch.no_grad():
        expected = reference(ids, attention_mask=mask).logits
        assert torch.equal(ours(ids, attention_mask=mask).logits[mask.bool()], expected[mask.bool()])
        if implementation == "eager":
            maps = ours(ids, output_attentions=True)
            assert torch.equal(maps.logits, reference(ids).logits)
            assert torch.equal(maps.attentions[-1], reference(ids, output_attentions=True).attentions[-1])
