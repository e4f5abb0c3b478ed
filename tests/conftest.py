"""Shared fixtures and helpers: checkpoints in the exact original release format (full size and
tiny), the bundled example's paths, an independent FASTA reader, the CLI error check.

Test modules import helpers from here, never from each other. Tests marked ``slow`` (full-size
equivalence, several processes, the Kipoi command line) run in the full suite; the default
fast run is ``python -m pytest -m "not slow"``.
"""

from __future__ import annotations

import importlib.util
from importlib import resources
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
ORIGINAL = DATA / "splicebert_original"
EXAMPLE = Path(str(resources.files("splicebert_plugin").joinpath("resources", "example")))
FASTA = EXAMPLE / "hg19_chr19_1-560000.fa"
GENES = EXAMPLE / "genes.tsv"
VCF = EXAMPLE / "variants.vcf"
GTF = DATA / "hg38_alpha_globin/refseq.hg38.chr16_186964-397118.relative_coords.gtf"
HG38 = DATA / "hg38_alpha_globin/hg38_chr16_186964-397118.fa"
BRANCHPOINTS = DATA / "branchpoints"

#: a small model in the released layout (512 positions: the real window length; 2 layers of 32)
TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64}
COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A", "N": "N"}
TOKEN = {"N": 5, "A": 6, "C": 7, "G": 8, "T": 9}


def build_original_checkpoint(dst: Path, release: str, *, std: float = 0.2, seed: int = 0,
                              shrink: dict | None = None) -> Path:
    """The released metadata files (byte for byte) + random weights saved by transformers' own
    BertForMaskedLM, as transformers 4.x saved them (the library's one builder).

    std 0.2 instead of BERT's 0.02 so that predictions vary: at 0.02 every KL-context score is
    the floor, 100 x ln(1e-6), and a score test would prove nothing.
    """
    from splicebert_plugin.checkpoints import write_random_original_checkpoint

    return write_random_original_checkpoint(dst, release, seed=seed, init_std=std, metadata=ORIGINAL / release,
                                            shrink=shrink)


@pytest.fixture(scope="session")
def original_510(tmp_path_factory) -> Path:
    return build_original_checkpoint(tmp_path_factory.mktemp("orig") / "SpliceBERT.510nt", "SpliceBERT.510nt")


@pytest.fixture(scope="session")
def original_1024(tmp_path_factory) -> Path:
    return build_original_checkpoint(tmp_path_factory.mktemp("orig") / "SpliceBERT.1024nt", "SpliceBERT.1024nt", seed=1)


@pytest.fixture(scope="session")
def tiny_510(tmp_path_factory) -> Path:
    """An original-format checkpoint of the 510-nt layout, tiny: for tests where size does not matter."""
    return build_original_checkpoint(tmp_path_factory.mktemp("tiny") / "tiny.510nt", "SpliceBERT.510nt",
                                     shrink=TINY)


@pytest.fixture(scope="session", params=["tiny", pytest.param("full", marks=pytest.mark.slow)])
def checkpoint_510(request, tiny_510, tmp_path_factory) -> Path:
    """The 510-nt layout, tiny (fast run) and full size (slow run): for equivalence tests."""
    if request.param == "tiny":
        return tiny_510
    return request.getfixturevalue("original_510")


@pytest.fixture(scope="session")
def reference_bert_510(original_510):
    """transformers' BertForMaskedLM on the original folder, eager attention (the original path)."""
    from transformers import BertForMaskedLM

    return BertForMaskedLM.from_pretrained(str(original_510), attn_implementation="eager").eval()


@pytest.fixture()
def tiny_config():
    from splicebert_plugin import SpliceBertConfig

    return SpliceBertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=66,
        initializer_range=0.2,
    )


def random_ids(batch: int, nucleotides: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 10, (batch, nucleotides + 2), generator=generator)
    ids[:, 0], ids[:, -1] = 2, 3
    return ids


# ---- independent helpers (deliberately not the library's code) ----

def read_fasta_text(path) -> str:
    """The concatenated, upper-cased sequence of a small FASTA file."""
    return "".join(line.strip() for line in open(path) if not line.startswith(">")).upper()


def revcomp(seq: str) -> str:
    return "".join(COMPLEMENT[c] for c in reversed(seq))


def data_lines(path) -> list[str]:
    """The record lines of a VCF (plain or gzip)."""
    import gzip

    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as handle:
        return [line.rstrip("\n") for line in handle if not line.startswith("#")]


def cli_error(argv, capsys, status: int = 2) -> str:
    """Run the CLI in-process; assert the exit status and a one-line error without a traceback."""
    from splicebert_plugin.cli.main import main

    capsys.readouterr()
    assert main([str(a) for a in argv]) == status
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(("Loading weights", "WARNING"))]
    assert len(lines) == 1, err
    return lines[0]


def load_recipe(name: str):
    """A recipe of ``training/`` as a module (recipes are scripts, not a package)."""
    path = REPO / "training" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"recipe_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- a local HTTP server for the download code (no other host is reachable) ----

class FileServer:
    """Serves a folder on 127.0.0.1 with HTTP Range support; records every request.

    ``cut_after``: the next response stops after that many body bytes (a broken transfer);
    ``ignore_range``: answer 200 with the whole file even when a range is asked.
    """

    def __init__(self, root: Path):
        import http.server
        import threading

        self.root, self.requests, self.cut_after, self.ignore_range = Path(root), [], None, False
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                path = server.root / self.path.lstrip("/").split("?")[0]
                server.requests.append((self.path, self.headers.get("Range")))
                if not path.is_file():
                    self.send_error(404)
                    return
                data = path.read_bytes()
                start, status = 0, 200
                ask = self.headers.get("Range")
                if ask and not server.ignore_range:
                    start = int(ask.split("=")[1].split("-")[0])
                    if start >= len(data):
                        self.send_error(416)
                        return
                    status = 206
                body = data[start:]
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                if server.cut_after is not None:
                    body, server.cut_after = body[: server.cut_after], None
                    self.wfile.write(body)
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def file_server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    server = FileServer(root)
    yield server
    server.close()


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    """An empty splicebert cache for this test, downloads allowed."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("SPLICEBERT_CACHE", str(folder))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return folder


def free_port() -> str:
    """A TCP port on 127.0.0.1 that nothing listens on now (for torch.distributed's rendezvous)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def torchrun(*argv: str, pythonpath: bool = False):
    """``python -m torch.distributed.run --nproc_per_node 2 <argv>`` (CPU, gloo; no rank variables
    inherited); fails the test with stderr's tail if it fails, else returns the finished process.
    ``pythonpath``: the repository and the tests folder importable (for scripts written by tests)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "tests"), env.get("PYTHONPATH", "")])
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                             "--master_port", free_port(), *map(str, argv)],
                            capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def run_two_processes(script_text: str, folder: Path, *args: str) -> None:
    """Run ``script_text`` under :func:`torchrun` with ``args``, the package and the tests folder
    importable."""
    script = Path(folder) / "two.py"
    script.write_text(script_text)
    torchrun(script, *args, pythonpath=True)


@pytest.fixture(scope="session")
def tiny_genebert(tmp_path_factory) -> Path:
    """A tiny random GeneBERT pretraining folder (the GeneBERT family's counterpart of tiny_510)."""
    from splicebert_plugin.genebert import GeneBertForPreTraining

    from .genebert_fixtures import tiny_config

    torch.manual_seed(123)  # not the fine-tuning seed: init=random must give other weights
    folder = tmp_path_factory.mktemp("gb") / "model"
    GeneBertForPreTraining(tiny_config()).save_pretrained(str(folder))
    return folder


def assert_results_match_sklearn(folder: Path) -> dict:
    """The AP and AUROC of a ``splicebert benchmark`` results folder equal scikit-learn's on the
    labels and scores it wrote (KL-context and minus the distance); returns the results rows."""
    import csv

    from sklearn.metrics import average_precision_score, roc_auc_score

    scores = list(csv.DictReader(open(folder / "scores.tsv"), delimiter="\t"))
    labels = [int(r["LABEL"]) for r in scores]
    results = {row["score"]: row for row in csv.DictReader(open(folder / "results.tsv"), delimiter="\t")}
    for name, values in (("KL_CONTEXT", [float(r["KL_CONTEXT"]) for r in scores]),
                         ("distance to splice site (baseline)", [-float(r["DISTANCE"]) for r in scores])):
        assert float(results[name]["ap"]) == pytest.approx(average_precision_score(labels, values), abs=1e-12)
        assert float(results[name]["auroc"]) == pytest.approx(roc_auc_score(labels, values), abs=1e-12)
        assert float(results[name]["ap_low"]) <= float(results[name]["ap"]) <= float(results[name]["ap_high"])
    return results
