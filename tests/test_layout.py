"""The package's layout keeps its walls: no import circle (imports inside functions included),
no network code under ``io/``, model files that import only torch/transformers and each other,
inference that never imports training, and a cheap ``import splicebert_plugin``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "splicebert_plugin"
NAME = "splicebert_plugin"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _imports(module: str) -> set[str]:
    """Every module of the package that ``module`` imports, at the top or inside functions,
    with the packages whose ``__init__`` runs on the way (its own ancestors excepted)."""
    tree = ast.parse(MODULES[module].read_text())
    package = module if _is_package(module) else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                base_name = ".".join(base + ([node.module] if node.module else []))
            else:
                base_name = node.module or ""
            names = [base_name] + [f"{base_name}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name in MODULES:
                parts = name.split(".")
                targets.update(".".join(parts[:k]) for k in range(2, len(parts) + 1))
    ancestors = {".".join(module.split(".")[:k]) for k in range(1, module.count(".") + 1)}
    return {t for t in targets if t in MODULES and t != module and t not in ancestors}


GRAPH = {module: _imports(module) for module in MODULES}


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, result, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return result


def test_the_graph_sees_imports_inside_functions():
    # a known import inside a function: the resolver reads the cache folder lazily at the top, the
    # analysis job imports the annotation reader inside its function
    assert f"{NAME}.io.annotation" in GRAPH[f"{NAME}.analysis.evaluate_job"]


def test_no_import_circle():
    assert _cycles() == []


def test_the_cycle_finder_finds_a_circle():
    saved = dict(GRAPH)
    try:
        GRAPH[f"{NAME}.io.text"] = GRAPH[f"{NAME}.io.text"] | {f"{NAME}.io.vcf"}  # io.vcf imports io.text
        assert [f"{NAME}.io.text", f"{NAME}.io.vcf"] in _cycles()
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


def _reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for w in GRAPH[todo.pop()]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(f"{NAME}.io")))
def test_io_never_reaches_network_code(module):
    assert not {m for m in _reachable(module) if m.startswith(f"{NAME}.sources")}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.rpartition(".")[2].startswith(("configuration_", "modeling_"))))
def test_model_files_are_hub_code(module):
    """Copied into hub_models/: they import only torch, transformers and their siblings."""
    tree = ast.parse(MODULES[module].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            assert node.level == 1 and (node.module or "").startswith(("configuration_", "modeling_", "tokenization_")), \
                f"{module}: from {'.' * node.level}{node.module}"
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            roots = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for root in roots:
                assert root.split(".")[0] in {"torch", "transformers", "math", "typing", "dataclasses", "__future__",
                                              "collections", "functools", "warnings", "json", "os"}, f"{module}: {root}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith((f"{NAME}.scoring", f"{NAME}.analysis",
                                                                                f"{NAME}.checkpoints", f"{NAME}.io"))))
def test_inference_never_imports_training(module):
    assert not {m for m in _reachable(module) if m.startswith(f"{NAME}.training")}


def test_import_is_cheap():
    """``import splicebert_plugin`` registers both families with the Auto classes but loads
    neither GeneBERT's Swin encoder nor any training, scoring, checkpoint or download code."""
    code = ("import sys, splicebert_plugin; from transformers import AutoConfig; "
            "AutoConfig.for_model('genebert'); "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith(('splicebert_plugin', 'transformers.models.swin')))))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert f"{NAME}.splicebert.modeling_splicebert" in loaded
    heavy = {m for m in loaded if m.startswith((f"{NAME}.training", f"{NAME}.scoring", f"{NAME}.sources",
                                                  f"{NAME}.checkpoints", "transformers.models.swin.modeling_swin"))}
    assert heavy == set()


def test_swin_arrives_with_the_first_genebert_model():
    code = ("import sys, splicebert_plugin; from splicebert_plugin.genebert import GeneBertConfig, GeneBertModel; "
            "before = 'transformers.models.swin.modeling_swin' in sys.modules; "
            "GeneBertModel(GeneBertConfig.from_preset('demo')); "
            "print(before, 'transformers.models.swin.modeling_swin' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split() == \
        ["False", "True"]
