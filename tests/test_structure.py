"""The shape of the code: no import cycle between modules, and the wheel carries what a run needs."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("auditor", "checks")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Project modules imported anywhere in ``path``, inside functions too."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        out |= {t for t in targets if t in known}
    return out


def import_graph() -> nx.DiGraph:
    modules = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        graph.add_edges_from((name, target) for target in _imports(path, name, set(modules)) if target != name)
    return graph


def test_the_import_graph_sees_function_level_imports():
    graph = import_graph()
    assert graph.has_edge("auditor.engine.facts", "auditor.engine.runner")  # imported inside a function
    assert graph.has_edge("auditor.engine.runner", "auditor.engine.registry")


def test_no_import_cycle_between_modules():
    cycles = [c for c in nx.simple_cycles(import_graph()) if len(c) > 1]
    assert not cycles, "import cycles: " + "; ".join(" -> ".join([*c, c[0]]) for c in cycles[:5])


def test_the_core_imports_nothing_else_but_the_contract():
    graph = import_graph()
    outside = {(a, b) for a, b in graph.edges if a.startswith("auditor.core") and not b.startswith("auditor.core")}
    assert outside == {("auditor.core.config", "auditor.ingest.schema")}  # header aliases checked against the contract


@pytest.mark.slow
def test_the_wheel_installs_in_a_clean_venv_and_runs_the_demo(tmp_path):
    """Build the wheel, install it (no dependencies, nothing downloaded) in a clean venv that borrows this
    venv's installed dependencies, and run ``run-audit demo`` from a folder outside the checkout."""
    dist, source = tmp_path / "dist", tmp_path / "source"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in filter(None, tracked.decode().split("\0")):  # the checkout as committed: no stale build/
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(source)], check=True, cwd=tmp_path)
    wheel = next(dist.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "auditor/templates/monthly.html.j2" in names and "auditor/profiles/changning.toml" in names
    assert "auditor/templates/web/base.html.j2" in names and "auditor/templates/static/site.css" in names
    assert "auditor/templates/web/_graph.html.j2" in names and "auditor/templates/static/graph.js" in names
    assert not any(n.startswith(("reports/", "config/", "tests/")) for n in names)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n")  # dependencies, not the editable auditor
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                    "--no-index", "-q", str(wheel)], check=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", "import auditor; print(auditor.__file__)"],
                           cwd=work, env=env, check=True, capture_output=True, text=True).stdout
    assert str(venv) in probe, f"auditor imported from outside the wheel: {probe}"
    done = subprocess.run([str(venv / "bin" / "run-audit"), "demo", "--out", "demo", "--cases", "200",
                           "--db", f"sqlite:///{work / 'demo.db'}"],
                          cwd=work, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (work / "demo" / "report" / "report.html").stat().st_size > 0
    assert (work / "demo" / "report" / "issues.xlsx").exists()
