"""Layers point one way (README, "Layers"): an app imports only apps of a lower layer
(or of its own), never one above it, and no two apps import each other. The domain apps
hold models, rules, selectors, services and tasks; every page is in a surface app
(``member``, ``staff``) above them.

The imports are read from the source (``import x``/``from x import y``, at any depth, in
functions too), so an import hidden in a function to dodge a cycle still counts. Tests
(``*/tests/``, ``conftest.py``), ``kenpo_portal`` (settings, URLs, the Celery app) and
``bench`` may import anything.
"""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

DOMAIN = {
    "core": 0, "audit": 0,
    "eligibility": 1,
    "certificates": 2, "reminders": 2, "imports": 2, "notices": 2,
    "exports": 3,
}
SURFACES = {"member", "staff", "employer"}  # the doors: every page, URL and page template
TOP = 4
LAYERS = {**DOMAIN, **{app: TOP for app in SURFACES}, "demo": TOP}  # demo: seed_demo, over every app
# In a domain app, the admin of its own models may stay beside them (admin.py, admin_*.py and
# the admin's templates); nothing else of a page.
ADMIN_MODULE = ("admin.py", "admin_")
# Besides admin templates, a domain app renders documents, not pages: e-mails and PDFs.
DOCUMENT_TEMPLATES = {"admin", "email", "pdf"}
PAGE_TOOLS = {"django.shortcuts": {"render", "redirect", "render_to_response"},
              "django.views.decorators.http": None, "django.contrib.auth.decorators": None}


def _is_test(path: Path) -> bool:
    return "tests" in path.parts or path.name == "conftest.py"


def _module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _source_files(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        if not _is_test(path.relative_to(ROOT)):
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def app_imports() -> dict[tuple[str, str], list[str]]:
    """(importing app, imported app) → where (``path:line``), for every import between apps."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for app in LAYERS:
        for path, tree in _source_files(app):
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    other = module.split(".")[0]
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    if other in LAYERS and other != app and where not in found[(app, other)]:
                        found[(app, other)].append(where)
    return found


def test_the_layers_name_every_app_of_the_project():
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")} - {"kenpo_portal"}
    assert apps <= set(LAYERS), f"put these apps in a layer (LAYERS and the README): {sorted(apps - set(LAYERS))}"


def test_no_app_imports_an_app_above_it():
    upward = [
        f"{app} (layer {LAYERS[app]}) imports {other} (layer {LAYERS[other]}) at {', '.join(where)}"
        for (app, other), where in sorted(app_imports().items())
        if LAYERS[other] > LAYERS[app]
    ]
    assert not upward, "a lower app imports a higher one (move the page up, or call down):\n" + "\n".join(upward)


def test_no_two_apps_import_each_other():
    edges = app_imports()
    cycles = [
        f"{a} ↔ {b}: {a} at {', '.join(edges[(a, b)])}; {b} at {', '.join(edges[(b, a)])}"
        for (a, b) in sorted(edges)
        if a < b and (b, a) in edges
    ]
    assert not cycles, "apps that import each other:\n" + "\n".join(cycles)


def test_no_surface_imports_another():
    """A door is built on the domain, never on another door (``member`` and ``staff`` apart)."""
    crossing = [f"{a} imports {b} at {', '.join(w)}" for (a, b), w in sorted(app_imports().items())
                if a in SURFACES and b in SURFACES]
    assert not crossing, "\n".join(crossing)


def test_no_domain_app_has_pages_urls_or_page_templates():
    found = []
    for app in DOMAIN:
        folder = ROOT / app
        found += [f"{p.relative_to(ROOT)}: URLs" for p in folder.rglob("urls.py") if not _is_test(p.relative_to(ROOT))]
        found += [f"{p.relative_to(ROOT)}: views" for p in [folder / "views.py", folder / "views"] if p.exists()]
        for templates in [folder / "templates" / "", ROOT / "templates" / app]:
            for path in (templates.rglob("*.html") if templates.is_dir() else []):
                relative = path.relative_to(templates).parts
                inside = relative[1:] if relative[0] == app else relative  # app/templates/<app>/…
                if not inside or inside[0] not in DOCUMENT_TEMPLATES:
                    found.append(f"{path.relative_to(ROOT)}: a page template")
        for path, tree in _source_files(app):
            if path.name.startswith(ADMIN_MODULE) or "migrations" in path.parts:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module in PAGE_TOOLS:
                    names = PAGE_TOOLS[node.module]
                    used = {a.name for a in node.names} if names is None else {a.name for a in node.names} & names
                    if used:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.module} {sorted(used)} (a view)")
    assert not found, "a domain app has pages (move them to member/ or staff/):\n" + "\n".join(found)


def test_no_get_model_outside_migrations():
    """Import the model. Only a migration, or a function handed a migration's historical
    ``apps``, looks one up by name."""
    found = []
    for app in [*LAYERS, "kenpo_portal"]:
        for path, tree in _source_files(app):
            if "migrations" in path.parts:
                continue
            handed_apps = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "apps" in {
                        a.arg for a in node.args.args + node.args.kwonlyargs}:
                    handed_apps |= {id(n) for n in ast.walk(node)}
            found += [
                f"{path.relative_to(ROOT)}:{node.lineno}"
                for node in ast.walk(tree)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get_model" and id(node) not in handed_apps
            ]
    assert not found, "get_model outside migrations (import the model instead):\n" + "\n".join(found)
