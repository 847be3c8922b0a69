"""Staff roles (職員の役割) as groups, and the ONE table of what each role may do.

Three roles, from least to most trusted:

- 閲覧 (viewer): reads the society's data; no exports, no downloads, no changes.
- 担当者 (clerk): also reviews requests, issues certificates and activation codes,
  runs imports, exports lists and downloads PDFs, and corrects persons' data.
- 管理者 (manager): everything, including staff accounts (users, groups) and settings.

Permissions are named ``app_label.codename``; a name may end in ``*`` (a prefix,
e.g. ``eligibility.view_*``). Names that match nothing yet are skipped, so
``sync_roles()`` is re-run (``manage.py sync_roles``, and automatically after every
``migrate``) once other apps add their permissions. Editing a role = editing this
table, then migrating or running the command.

The audit log is read by managers only, and nobody may add, change or delete its
entries (the admin refuses even a superuser; see ``audit.admin``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

VIEWER = "閲覧"
CLERK = "担当者"
MANAGER = "管理者"

# The society's data apps: every staff role may read them.
DATA_APPS = ("eligibility", "certificates", "notices", "reminders", "imports")

_READ = tuple(f"{app}.view_*" for app in DATA_APPS)

_CLERK_WORK = (
    # Persons, households and card facts: correct them (never delete: history matters).
    "eligibility.add_household",
    "eligibility.change_household",
    "eligibility.add_person",
    "eligibility.change_person",
    "eligibility.add_cardfacts",
    "eligibility.change_cardfacts",
    "eligibility.add_activationcode",  # the admin action 連携コードを発行
    # Certificates (資格確認書): review requests, issue, export, download.
    "certificates.add_*",
    "certificates.change_*",
    "certificates.review_request",
    "certificates.issue_certificate",
    "certificates.export_list",
    "certificates.download_pdf",
    # 資格情報のお知らせ: mark who asked for paper, print them.
    "notices.change_*",
    # Reminders: retry or fix a failed one.
    "reminders.change_*",
    # Imports of the roster and the registration-status file.
    "imports.add_*",
    "imports.change_*",
    "imports.run_import",
)

ROLES: dict[str, tuple[str, ...]] = {
    VIEWER: _READ,
    CLERK: _READ + _CLERK_WORK,
    # Everything that exists, staff accounts (auth.*) included; the audit log's
    # add/change/delete are refused by its admin whatever the permission says.
    MANAGER: ("*",),
}

# How a member's access record (アクセス記録) names the role that opened their records.
MEMBER_FACING_LABELS = {VIEWER: _("職員（閲覧）"), CLERK: _("職員（担当者）"), MANAGER: _("職員（管理者）")}

ROLE_ORDER = (MANAGER, CLERK, VIEWER)  # the most trusted role wins when a user has several


@dataclass
class SyncResult:
    granted: dict[str, int] = field(default_factory=dict)  # role → number of permissions
    missing: dict[str, list[str]] = field(default_factory=dict)  # role → names matching nothing yet


def _matches(pattern: str, name: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return name == pattern


def permissions_for(role: str, available: dict[str, int]) -> tuple[set[int], list[str]]:
    """(ids of the permissions ``role`` gets, the table's names that match nothing)."""
    ids: set[int] = set()
    missing: list[str] = []
    for pattern in ROLES[role]:
        hits = {pk for name, pk in available.items() if _matches(pattern, name)}
        if not hits:
            missing.append(pattern)
        ids |= hits
    return ids, missing


def sync_roles(*, apps=None, using: str = "default") -> SyncResult:
    """Create the role groups and set each one's permissions to exactly the table's.

    Safe to run any number of times. ``apps`` is the app registry (a migration passes
    its historical one).
    """
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    available = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    result = SyncResult()
    for role in ROLES:
        group, _ = Group.objects.using(using).get_or_create(name=role)
        ids, missing = permissions_for(role, available)
        group.permissions.set(ids)
        result.granted[role] = len(ids)
        result.missing[role] = missing
    return result


def role_of(user) -> str | None:
    """The most trusted role ``user`` holds (superusers count as 管理者), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if not (user.is_staff or user.is_superuser):
        return None
    if user.is_superuser:
        return MANAGER
    names = set(user.groups.values_list("name", flat=True))
    return next((role for role in ROLE_ORDER if role in names), None)
