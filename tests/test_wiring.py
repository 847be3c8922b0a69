"""How the apps are wired: each app tracks its own models and connects its own dashboard
signals, by class; and audit never imports staff."""

import ast
from pathlib import Path

import pytest
from auditlog.registry import auditlog
from django.apps import apps
from django.db.models.signals import post_delete, post_save
from django.dispatch.dispatcher import _make_id

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("label", "excluded"), [
    ("eligibility.Society", []), ("eligibility.Employer", []), ("eligibility.Household", []),
    ("eligibility.Person", []), ("eligibility.CardFacts", ["updated_at"]), ("eligibility.MemberLink", []),
    ("eligibility.ActivationCode", ["code_hash"]), ("certificates.EligibilityCertificate", []),
    ("certificates.ReissueRequest", []), ("certificates.IssueBatch", []),
    ("auth.User", ["password", "last_login"]), ("auth.Group", []),
])
def test_every_change_of_the_audited_models_is_kept(label, excluded):
    """Each app tracks its own models by class (``audit.tracking.track``)."""
    model = apps.get_model(label)
    assert auditlog.contains(model), label
    assert set(excluded) <= set(auditlog.get_model_fields(model)["exclude_fields"]), label


@pytest.mark.parametrize("label", ["eligibility.Household", "eligibility.Person", "eligibility.CardFacts",
                                   "eligibility.MemberLink", "certificates.EligibilityCertificate",
                                   "certificates.ReissueRequest", "reminders.Reminder"])
def test_every_model_the_dashboard_shows_forgets_the_cached_page(label):
    """Each app connects its own models, by class (``eligibility.signals.forget_dashboards``)."""
    sender = _make_id(apps.get_model(label))
    for signal, suffix in ((post_save, "save"), (post_delete, "delete")):
        assert (f"dashboard-cache-{label}-{suffix}", sender) in [key for key, *_ in signal.receivers], label


def _imported_apps(app: str) -> dict[str, set[str]]:
    """Module → the top-level packages it imports, for every non-test module of ``app``."""
    found = {}
    for path in (ROOT / app).rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        names = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(("app", "higher"), [
    ("audit", {"staff"}),  # the audit log is written by every app: it sits below staff
    ("core", {"eligibility", "certificates", "reminders", "imports", "staff", "audit"}),
])
def test_a_lower_app_never_imports_a_higher_one(app, higher):
    offending = {module: names & higher for module, names in _imported_apps(app).items() if names & higher}
    assert offending == {}
