"""Every app's tests run: a ``tests/`` folder that pytest would not collect (left out of
``testpaths`` or matched by ``norecursedirs``) fails here, naming it."""

from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _collected(folder: Path, config) -> bool:
    testpaths = [ROOT / t for t in config.getini("testpaths")] or [ROOT]
    if not any(folder == t or t in folder.parents for t in testpaths):
        return False
    skipped = config.getini("norecursedirs")
    return not any(fnmatch(part, pattern) for part in folder.relative_to(ROOT).parts for pattern in skipped)


def test_every_apps_tests_are_collected(request):
    folders = sorted({p.parent for p in ROOT.glob("*/tests/test_*.py")})
    assert {f.parent.name for f in folders} >= {"notices", "exports", "eligibility", "certificates"}
    missed = [str(f.relative_to(ROOT)) for f in folders if not _collected(f, request.config)]
    assert not missed, f"pytest does not collect these tests (pyproject.toml testpaths/norecursedirs): {missed}"
