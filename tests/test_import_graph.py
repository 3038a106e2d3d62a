"""The library's imports point one way: CLI -> API -> training -> models -> parts.

Every import statement of every module under ``pyro_vaes`` (type-only and function-level
imports included) is read with ``ast``: no module of one model's package imports another
model's package, the training engine or the API; the parts import no model; the library
never imports the command line or click; no module imports itself through others (no cycle).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "pyro_vaes"
MODELS = ("vae", "m2", "ccvae", "mlvae", "parted")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The modules ``path`` imports (a name imported from a package counts as its submodule
    when there is one)."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    return found


def graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): {m for m in imports_of(p, modules)
                             if m.split(".")[0] in ("pyro_vaes", "click", "runners")}
            for p in paths}


def test_a_model_imports_no_other_model_nor_training_nor_the_api():
    for module, imported in graph().items():
        if not module.startswith("pyro_vaes.models."):
            continue
        own = module.split(".")[2]
        for target in imported:
            for name in MODELS:
                if name != own:
                    assert not target.startswith(f"pyro_vaes.models.{name}"), (module, target)
            if own in MODELS:
                assert not target.startswith(("pyro_vaes.training", "pyro_vaes.api")), \
                    (module, target)


def test_parts_import_no_model_and_the_library_no_command_line():
    layered = ("pyro_vaes.models", "pyro_vaes.training", "pyro_vaes.api")
    parts = ("pyro_vaes.priors", "pyro_vaes.guides", "pyro_vaes.likelihoods", "pyro_vaes.nets",
             "pyro_vaes.inference", "pyro_vaes.labels", "pyro_vaes.figures", "pyro_vaes.naming",
             "pyro_vaes.process", "pyro_vaes.interventions", "pyro_vaes.config",
             "pyro_vaes.errors", "pyro_vaes.data")
    for module, imported in graph().items():
        assert not any(t.split(".")[0] in ("click", "runners") for t in imported), module
        if module.startswith(parts):
            assert not [t for t in imported if t.startswith(layered)], module


def test_no_import_cycles():
    edges = graph()
    state: dict[str, int] = {}   # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                cycle = path[path.index(target):] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target in edges and target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)


def test_the_checker_sees_a_cycle_and_a_forbidden_arrow(tmp_path):
    package = tmp_path / "pyro_vaes"
    (package / "models" / "m2").mkdir(parents=True)
    for name in ("__init__.py", "models/__init__.py", "models/m2/__init__.py"):
        (package / name).write_text("")
    (package / "a.py").write_text("from pyro_vaes import b\n")
    (package / "b.py").write_text("def f():\n    import pyro_vaes.a\n")
    (package / "models" / "m2" / "model.py").write_text("from pyro_vaes.models.ccvae import x\n")
    globals()["PACKAGE"], saved = package, PACKAGE
    try:
        edges = graph()
        assert "pyro_vaes.b" in edges["pyro_vaes.a"] and "pyro_vaes.a" in edges["pyro_vaes.b"]
        try:
            test_no_import_cycles()
        except AssertionError as error:
            assert "pyro_vaes.a -> pyro_vaes.b -> pyro_vaes.a" in str(error)
        else:
            raise AssertionError("the cycle went unseen")
        assert "pyro_vaes.models.ccvae" in edges["pyro_vaes.models.m2.model"]
    finally:
        globals()["PACKAGE"] = saved
