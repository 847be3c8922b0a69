"""Reads of batches and print files for the clerk's pages (the ex-officio list and the
member-facing reads are in ``selectors``)."""

from django.db.models import Case, Count, Q, Value, When

from .models import EligibilityCertificate, IssueBatch

Cert = EligibilityCertificate


def batch_groups(batch: IssueBatch) -> list[dict]:
    """The batch's certificates per mailing group (each employer, then direct post), with
    how many are rendered, printed and mailed: one GROUP BY. Each row has ``group`` (the
    employer's id, or ``"post"``), the value the per-group marks take."""
    rows = (
        batch.certificates.exclude(status=Cert.Status.VOID)
        .annotate(post_last=Case(When(delivery_route="post", then=Value(1)), default=Value(0)))
        .values("post_last", "employer_id", "employer__code", "employer__name")
        .annotate(total=Count("pk"), rendered=Count("pk", filter=Q(status=Cert.Status.RENDERED)),
                  printed=Count("pk", filter=Q(status=Cert.Status.PRINTED)),
                  mailed=Count("pk", filter=Q(status=Cert.Status.MAILED)))
        .order_by("post_last", "employer__code")
    )
    groups: dict[str, dict] = {}
    for row in rows:
        key = "post" if row["post_last"] else str(row["employer_id"])
        name = "本人あて直接郵送（任意継続など）" if row["post_last"] else row["employer__name"]
        group = groups.setdefault(key, {"group": key, "name": name, "total": 0, "rendered": 0, "printed": 0,
                                        "mailed": 0})
        for field in ("total", "rendered", "printed", "mailed"):
            group[field] += row[field]
    return list(groups.values())
