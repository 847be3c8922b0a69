"""What the dashboard tells a member about one person: status in words, dates, the next step.

Dates come from ``rules`` (through the derived fields of ``CardFacts``); this module
only chooses words. Texts are Japanese first with English through gettext.
"""

from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from core.wareki import format_member_date
from eligibility import ending, rules
from eligibility.models import CardFacts, Person
from eligibility.rules import Status
from eligibility.status_labels import MEMBER_STATUS_LABELS, NOT_ELIGIBLE_LABEL

from . import clinic
from .proofs import Proof

# Guides (templates/guides/<slug>.html) in the order the index lists them.
GUIDES = {
    "benefits": gettext_lazy("マイナ保険証の5つのメリット"),
    "get-card": gettext_lazy("マイナンバーカードの受け取り方"),
    "register": gettext_lazy("保険証としての利用登録"),
    "smartphone": gettext_lazy("スマートフォンでマイナ保険証"),
    "renewal": gettext_lazy("電子証明書とカードの更新、猶予期間"),
    "certificate": gettext_lazy("資格確認書とは"),
}

@dataclass(frozen=True)
class TimelineEvent:
    day: date
    label: str
    state: str  # "past", "today" or "future"

@dataclass
class Situation:
    person: Person
    facts: CardFacts | None
    status: Status | None
    status_label: str
    expires_on: date | None = None  # R5's e: the earlier of the e-certificate and the card
    expiring_thing: str = ""
    card_expires_first: bool = False
    renewal_opens_on: date | None = None
    grace_ends_on: date | None = None
    ecert_candidates: tuple[date, date] | None = None
    next_steps: list[str] = field(default_factory=list)
    guides: list[tuple[str, str]] = field(default_factory=list)
    timeline: list[TimelineEvent] = field(default_factory=list)
    proof: Proof = field(default_factory=Proof)
    answer: clinic.Answer | None = None
    end: ending.EndWords | None = None  # the end of eligibility, when the member is told it

    @property
    def css_status(self) -> str:
        return self.status.value if self.status else "none"

def _d(day: date) -> str:
    return format_member_date(day, get_language() or "ja")

def _guide(*slugs: str) -> list[tuple[str, str]]:
    return [(slug, str(GUIDES[slug])) for slug in slugs]

# The statuses whose card has dates to come: renewal, expiry and grace matter to a
# registered card only; before that (or when nobody has said), the next step does.
DATED_STATUSES = (Status.ACTIVE, Status.RENEW_NOW, Status.GRACE, Status.LAPSED)

def key_dates(*, status: Status | None, facts: CardFacts | None,
              end: ending.EndWords | None) -> list[tuple[str, date, str]]:
    """(kind, day, label) of a person's dates, for the dashboard's timeline and the .ics
    alike: the card's renewal, expiry and grace end when its status has them (R5, as
    the dashboard shows it), and the last day of eligibility when the member is told it."""
    events = []
    if status in DATED_STATUSES and facts is not None and facts.effective_expires_on is not None:
        thing = expiring_thing(facts)
        events += [
            ("renewal-opens", facts.renewal_opens_on, _("%(thing)sの更新受付開始") % {"thing": thing}),
            ("expiry", facts.effective_expires_on, _("%(thing)sの有効期限（この日まで）") % {"thing": thing}),
            ("grace-ends", facts.grace_ends_on,
             _("猶予期間の終わり（この日まで。翌日に保険証としての利用登録が取り消されます）")),
        ]
    if end is not None:
        events.append(("eligibility-ends", end.end.last_day, end.event))
    return sorted(events, key=lambda event: event[1])

def _timeline(s: Situation, today: date) -> list[TimelineEvent]:
    events = [(day, label) for _kind, day, label in key_dates(status=s.status, facts=s.facts, end=s.end)]
    if not events:
        return []
    timeline = []
    placed_today = False
    for day, label in events:
        if not placed_today and today < day:
            timeline.append(TimelineEvent(today, _("今日"), "today"))
            placed_today = True
        timeline.append(TimelineEvent(day, label, "past" if day < today else ("today" if day == today else "future")))
        placed_today = placed_today or day == today  # the event itself marks today
    if not placed_today:
        timeline.append(TimelineEvent(today, _("今日"), "today"))
    # 「これからの予定」: what is still to come (and today); none left, no list.
    upcoming = [e for e in timeline if e.state != "past"]
    return upcoming if any(day >= today for day, _label in events) else []

def status_of(person: Person, *, today: date) -> Status | None:
    """R5's status of ``person`` on ``today``; None when not eligible that day (R11 included).
    No card facts at all: ``unknown`` (nobody has said), never ``no_card``."""
    if not person.is_eligible_on(today):
        return None
    facts = getattr(person, "card", None)
    return facts.status_on(today) if facts else Status.UNKNOWN

_UNSET = object()


def situation_of(person: Person, *, today: date, proof: Proof | None = None, status=_UNSET) -> Situation:
    """The dashboard's view of ``person`` on ``today``; ``proof`` from ``proofs.proofs_for``,
    ``status`` from ``status_of`` when the caller has it already (worked out once a person)."""
    proof = proof or Proof()
    facts = getattr(person, "card", None) if _has_card_row(person) else None
    if status is _UNSET:
        status = status_of(person, today=today)
    end = ending.end_of(person, today=today)
    if status is None:
        s = Situation(person=person, facts=facts, status=None, status_label=str(NOT_ELIGIBLE_LABEL), proof=proof,
                      end=end)
        s.answer = clinic.answer(status=None, proof=proof, today=today, end=end)
        return s
    s = Situation(person=person, facts=facts, status=status, status_label=str(MEMBER_STATUS_LABELS[status]),
                  proof=proof, end=end)
    if facts and facts.has_card:
        s.expires_on = facts.effective_expires_on
        s.renewal_opens_on = facts.renewal_opens_on
        s.grace_ends_on = facts.grace_ends_on
        if facts.card_expires_on and facts.ecert_source in (
            CardFacts.EcertSource.UNKNOWN, CardFacts.EcertSource.SAME_AS_CARD, CardFacts.EcertSource.FIVE_YEARS_BEFORE
        ):
            s.ecert_candidates = rules.ecert_candidates(facts.card_expires_on, birth_date=person.birth_date)
        s.expiring_thing = expiring_thing(facts)
        s.card_expires_first = not _ecert_first(facts)
    _write_next_steps(s, today)
    if s.card_expires_first and s.status in (Status.ACTIVE, Status.RENEW_NOW, Status.GRACE):
        # FLYER §3: the card itself (its 10th/5th birthday) needs an application in advance.
        s.next_steps.append(_("カード自体の更新には、事前の申請が必要です（交付申請書で申請し、"
                              "交付通知書が届いたら受け取りに行きます）。早めに申請してください。"))
    s.timeline = _timeline(s, today)
    s.answer = clinic.answer(status=status, proof=proof, today=today, expires_on=s.expires_on,
                             renewal_opens_on=s.renewal_opens_on, grace_ends_on=s.grace_ends_on,
                             thing=s.expiring_thing, end=end)
    return s

def _ecert_first(facts: CardFacts) -> bool:
    return facts.ecert_expires_on is not None and (
        facts.card_expires_on is None or facts.ecert_expires_on < facts.card_expires_on)

def expiring_thing(facts: CardFacts) -> str:
    """What expires first, in the one wording of the dashboard, .ics and e-mails
    (電子証明書 or マイナンバーカード)."""
    return _("電子証明書") if _ecert_first(facts) else _("マイナンバーカード")

def _has_card_row(person: Person) -> bool:
    try:
        person.card  # noqa: B018 — loaded by select_related; no query here
    except CardFacts.DoesNotExist:
        return False
    return True

def _write_next_steps(s: Situation, today: date) -> None:
    facts = s.facts
    if s.status == Status.UNKNOWN:
        s.next_steps.append(
            _("当組合には、%(name)sさんのマイナンバーカードと保険証の利用登録の状況がまだ届いていません"
              "（国の登録状況のファイルを受け取ると分かります）。下の「カード情報を更新する」から教えてください。")
            % {"name": s.person.given_name})
        s.guides = _guide("benefits", "certificate")
    elif s.status == Status.NO_CARD:
        s.next_steps += [
            _("マイナンバーカードをお持ちでなければ、スマートフォン・パソコン、郵便、街中の証明写真機から申請できます。"
              "交付通知書が届いたら、指定の場所で受け取ってください。"),
            _("カードができるまでは、資格確認書で受診できます。"),
        ]
        s.guides = _guide("get-card", "certificate")
    elif s.status == Status.NOT_REGISTERED:
        s.next_steps.append(
            _("カードはありますが、健康保険証としての利用登録がまだです。次の3つのどれかで登録できます："
              "マイナポータル、セブン銀行ATM、医療機関・薬局の受付にある顔認証付きカードリーダー。")
        )
        s.guides = _guide("register", "benefits")
    elif s.status == Status.ACTIVE:
        if s.expires_on is None:
            s.next_steps.append(
                _("カードの有効期限がわかりません。カードの表面に印字された有効期限を入力してください。"
                  "更新の時期をお知らせできるようになります。")
            )
        else:
            s.next_steps.append(
                _("%(thing)sの有効期限は%(expiry)sです。%(opens)sから市区町村の窓口で更新できます。"
                  "有効期限の2〜3か月前に届く「有効期限通知書」をお持ちください。")
                % {"thing": s.expiring_thing, "expiry": _d(s.expires_on), "opens": _d(s.renewal_opens_on)}
            )
        s.guides = _guide("renewal") if facts.uses_smartphone else _guide("smartphone", "renewal")
    elif s.status == Status.RENEW_NOW:
        s.next_steps.append(
            _("%(thing)sの有効期限は%(expiry)sです。いま市区町村の窓口で更新できます。"
              "J-LISから届く「有効期限通知書」をお持ちください。")
            % {"thing": s.expiring_thing, "expiry": _d(s.expires_on)}
        )
        s.guides = _guide("renewal")
    elif s.status == Status.GRACE:
        s.next_steps.append(
            _("%(thing)sの有効期限（%(expiry)s）が過ぎました。%(grace)sまではマイナ保険証で資格を確認できますが、"
              "診療・お薬の情報は共有されません。すぐに市区町村の窓口で更新してください。")
            % {"thing": s.expiring_thing, "expiry": _d(s.expires_on), "grace": _d(s.grace_ends_on)}
        )
        s.guides = _guide("renewal", "certificate")
    elif s.status == Status.LAPSED:
        s.next_steps.append(
            _("猶予期間（%(grace)sまで）が終わり、保険証としての利用登録は取り消されました。"
              "受診には資格確認書が必要です。%(thing)sを更新したら、もう一度利用登録をしてください。")
            % {"grace": _d(s.grace_ends_on), "thing": s.expiring_thing}
        )
        s.guides = _guide("certificate", "renewal", "register")
    if facts and facts.has_card and s.ecert_candidates and s.status not in (Status.NO_CARD,):
        if facts.ecert_source == CardFacts.EcertSource.UNKNOWN:
            first, second = s.ecert_candidates
            s.next_steps.append(
                _("電子証明書の有効期限がまだ確認できていません。%(first)sか%(second)sのどちらかです。"
                  "マイナポータルか「有効期限通知書」で確かめて、カード情報の画面で選んでください。")
                % {"first": _d(first), "second": _d(second)}
            )

def guide_context(slug: str) -> dict:
    """Worked examples for the guides, computed by ``rules`` so the text can never disagree."""
    from django.conf import settings

    example_expiry = date(2025, 11, 10)
    feb_expiry = date(2026, 2, 14)
    return {
        "example_expiry": example_expiry,
        "example_opens": rules.renewal_opens(example_expiry),
        "example_grace": rules.grace_ends(example_expiry),
        "feb_expiry": feb_expiry,
        "feb_grace": rules.grace_ends(feb_expiry),
        "ex_officio_cutoff": rules.EX_OFFICIO_CUTOFF,
        "card_abolished_on": rules.INSURANCE_CARD_ABOLISHED_ON,
        "ex_officio_lapsed": settings.KENPO_EX_OFFICIO_LAPSED,
        "certificate_years": settings.KENPO_CERTIFICATE_VALID_YEARS,
    }
