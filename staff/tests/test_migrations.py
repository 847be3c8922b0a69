"""The roles' data migrations hold their own copy of the roles table (a migration must
not change when the code does), and the newest copy is the live table."""

import ast
import importlib
from pathlib import Path

from staff import roles

MIGRATIONS = Path(roles.__file__).resolve().parent / "migrations"


def _migrations_with_a_roles_table() -> list[str]:
    names = []
    for path in sorted(MIGRATIONS.glob("[0-9]*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if any(isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "ROLES" for t in node.targets)
               for node in tree.body):
            names.append(path.stem)
    return names


def test_no_migration_imports_the_live_roles_table():
    for path in MIGRATIONS.glob("[0-9]*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                imported = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                imported = [a.name for a in node.names]
            else:
                continue
            assert not any(name == "staff.roles" or name.startswith("staff.roles.") for name in imported), path.name


def test_the_newest_roles_migration_holds_the_live_table():
    names = _migrations_with_a_roles_table()
    assert names and names[0] == "0001_roles"
    newest = importlib.import_module(f"staff.migrations.{names[-1]}")
    assert {role: tuple(patterns) for role, patterns in newest.ROLES.items()} == roles.ROLES, (
        "staff.roles.ROLES changed: add a data migration with a copy of the new table "
        f"(never edit {names[-1]})"
    )
