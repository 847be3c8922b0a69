"""Layers point one way (README, "Layers"): an app imports only apps of a lower layer
(or of its own), never one above it, and no two apps import each other.

The audit app is two units: the audit *log* (its model, the one audit write
``audit.services.record``, the middleware, the login signals and the admin mixin that
records staff reads) is written by every app, so it sits at the bottom with ``core``;
the audit *pages* (the member's access log, the admin of the log) sit at the top.

The imports are read from the source (``import x``/``from x import y``, at any depth, in
functions too), so an import hidden in a function to dodge a cycle still counts. Tests
(``*/tests/``, ``conftest.py``), ``kenpo_portal`` (settings, URLs, the Celery app) and
``bench`` may import anything.
"""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LAYERS = {
    "core": 0,
    "eligibility": 1,
    "certificates": 2, "reminders": 2, "imports": 2, "notices": 2,
    "audit": 3, "exports": 3,
    "member": 4, "staff": 4,  # the surfaces: every page, over the domain apps
}


AUDIT_LOG = "audit (the log)"
AUDIT_LOG_MODULES = ("audit.models", "audit.services", "audit.middleware", "audit.signals", "audit.apps",
                     "audit.admin_mixins", "audit.migrations")
LAYERS[AUDIT_LOG] = 0


def _is_test(path: Path) -> bool:
    return "tests" in path.parts or path.name == "conftest.py"


def _module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def unit_of(module: str) -> str | None:
    """The layered unit a module belongs to: its app, or the audit log."""
    if module == "audit" or module.startswith(tuple(m for m in AUDIT_LOG_MODULES) + tuple(f"{m}." for m in AUDIT_LOG_MODULES)):
        return AUDIT_LOG if module != "audit" else "audit"
    app = module.split(".")[0]
    return app if app in LAYERS else None


def app_imports() -> dict[tuple[str, str], list[str]]:
    """(importing unit, imported unit) → where (``path:line``), for every import between units."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for app in (a for a in LAYERS if a != AUDIT_LOG):
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if _is_test(relative):
                continue
            importer = unit_of(_module_of(path))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    # ``from audit import services`` imports the module audit.services.
                    modules = [f"{node.module}.{a.name}" if _is_module(f"{node.module}.{a.name}") else node.module
                               for a in node.names]
                else:
                    continue
                for module in modules:
                    other = unit_of(module)
                    where = f"{relative}:{node.lineno}"
                    if other is not None and importer is not None and other != importer \
                            and where not in found[(importer, other)]:
                        found[(importer, other)].append(where)
    return found


def test_the_layers_name_every_app_of_the_project():
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")} - {"kenpo_portal"}
    assert all(_is_module(m) for m in AUDIT_LOG_MODULES)
    assert apps <= set(LAYERS), f"put these apps in a layer (LAYERS and the README): {sorted(apps - set(LAYERS))}"


def test_no_app_imports_an_app_above_it():
    upward = [
        f"{app} (layer {LAYERS[app]}) imports {other} (layer {LAYERS[other]}) at {', '.join(where)}"
        for (app, other), where in sorted(app_imports().items())
        if LAYERS[other] > LAYERS[app]
    ]
    assert not upward, "a lower app imports a higher one (offer a signal or a hook instead):\n" + "\n".join(upward)


def test_no_two_apps_import_each_other():
    edges = app_imports()
    cycles = [
        f"{a} ↔ {b}: {a} at {', '.join(edges[(a, b)])}; {b} at {', '.join(edges[(b, a)])}"
        for (a, b) in sorted(edges)
        if a < b and (b, a) in edges
    ]
    assert not cycles, "apps that import each other:\n" + "\n".join(cycles)
