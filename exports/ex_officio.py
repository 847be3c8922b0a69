"""The ex-officio list (職権交付の対象者一覧) as a CSV export job.

The job finds its rows again from the list's own filters: the query string staff had
on screen (or the rows they selected), read by the selector the admin list uses
(``certificates.selectors.ex_officio_candidates``), as of the day the job runs. The
certificates admin only links here (a lower app never imports ``exports``).
"""

from django.http import QueryDict

from certificates import selectors
from certificates.models import Basis
from eligibility.selectors import today
from eligibility.status_labels import STATUS_LABELS

from .registry import Exporter, register

CSV_HEADER = ["記号", "番号", "枝番", "氏名", "氏名（カナ）", "生年月日", "性別", "続柄", "事業所番号", "事業所名称",
              "任意継続", "資格取得日", "交付の根拠", "マイナ保険証の状況"]


def _queryset(*, params: dict, user):
    filters = selectors.ex_officio_filters(QueryDict(params.get("query", "")))
    queryset = selectors.ex_officio_candidates(today=today(), filters=filters)
    if params.get("ids") is not None:
        queryset = queryset.filter(pk__in=params["ids"])
    return queryset


def count(*, params: dict, user) -> int:
    return _queryset(params=params, user=user).count()


def readable(*, params: dict, user) -> bool:
    """False when the list's filter cannot be read (staff go back to the list, as there)."""
    try:
        _queryset(params=params, user=user)
    except selectors.UnreadableFilter:
        return False
    return True


def rows(*, params: dict, user):
    queryset = _queryset(params=params, user=user).order_by(
        "household__employer__code", "household__symbol", "household__number", "branch_number"
    )
    for p in queryset.iterator(chunk_size=2000):
        employer = p.household.employer
        yield [
            p.household.symbol, p.household.number, p.branch_number, p.name, p.name_kana,
            p.birth_date.isoformat(), p.get_sex_display(), p.get_relationship_display(),
            employer.code if employer else "", employer.name if employer else "",
            "○" if p.household.voluntary_continuation else "", p.eligible_from.isoformat(),
            Basis(p.basis).label, STATUS_LABELS[p.status],
        ]


EX_OFFICIO = register(Exporter(
    name="ex_officio", label="職権交付の対象者一覧", permission="certificates.export_list", header=CSV_HEADER,
    rows=rows, count=count, readable=readable, back_url="admin:certificates_exofficiocandidate_changelist",
))
