"""The end of a person's eligibility in words: the day, what ends, what to use from then,
and that the society sends no 資格確認書 past it.

The dates come from ``rules.eligibility_end`` (the one answer: the 75th birthday R11,
任意継続's last day, a known 資格喪失日); this module only chooses the words, and every
page, calendar and e-mail that speaks of a person's future reads them here.
"""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.wareki import format_member_date

from .rules import EligibilityEnd, EndCause, end_worth_telling


@dataclass(frozen=True)
class EndWords:
    end: EligibilityEnd
    ended: bool      # today is past the last day
    short: str       # the household summary: a few words
    headline: str    # the day and what ends
    what_next: str   # what to use from the day after
    no_certificate: str  # the society sends no certificate past it (or: it is over)
    event: str       # the timeline's and the calendar's label for the last day

    @property
    def then(self) -> str:
        return f"{self.what_next} {self.no_certificate}"

    @property
    def text(self) -> str:
        """The whole paragraph (「これから」, the request pages, staff's page)."""
        return f"{self.headline} {self.then}"


def _d(day: date) -> str:
    return format_member_date(day, get_language() or "ja")


def _what_next(end: EligibilityEnd) -> str:
    """What the person uses from the first day without eligibility."""
    if end.cause == EndCause.LATE_ELDERLY:
        return _("%(day)sからは後期高齢者医療制度の加入者になります。後期高齢者医療の資格確認書は、"
                 "お住まいの市区町村（後期高齢者医療広域連合）から届きます。マイナ保険証をお使いの方は、"
                 "手続きなしでそのまま使えます。") % {"day": _d(end.first_day_without)}
    if end.cause == EndCause.VOLUNTARY_CONTINUATION:
        return _("%(day)sからは、次に加入する健康保険（勤務先の健康保険、国民健康保険、ご家族の扶養など）で受診します。"
                 "加入の手続きをして、その保険者から届く資格確認書か、マイナ保険証を使ってください。") % {
            "day": _d(end.first_day_without)}
    return _("%(day)sからは、次に加入する健康保険の保険者にお問い合わせください。その保険者から届く資格確認書か、"
             "マイナ保険証を使ってください。") % {"day": _d(end.first_day_without)}


def end_words(end: EligibilityEnd, *, today: date) -> EndWords:
    """The words for ``end`` as of ``today`` (before the last day, on it, or after it)."""
    values = {"last": _d(end.last_day), "first": _d(end.first_day_without)}
    ended = today > end.last_day
    if end.cause == EndCause.LATE_ELDERLY:
        headline = (_("%(first)sに75歳になったため、当組合の資格は%(last)sで終わりました。") if ended else
                    _("%(first)sに75歳になるため、当組合の資格は%(last)sまでです。")) % values
        short = _("%(last)sまで（75歳から後期高齢者医療）") % values
        event = _("当組合の資格の最終日（翌日の75歳の誕生日から後期高齢者医療）")
    elif end.cause == EndCause.VOLUNTARY_CONTINUATION:
        headline = (_("任意継続は%(last)sで終わりました。") if ended else
                    _("任意継続は%(last)sで終わります。")) % values
        short = _("%(last)sまで（任意継続の終了）") % values
        event = _("任意継続の最終日（翌日から次の健康保険へ）")
    else:
        headline = (_("当組合の資格は%(last)sで終わりました（資格喪失日：%(first)s）。") if ended else
                    _("当組合の資格は%(last)sまでです（資格喪失日：%(first)s）。")) % values
        short = _("%(last)sまで（資格喪失）") % values
        event = _("当組合の資格の最終日")
    if ended:
        after = _("当組合の資格確認書は使えません。お持ちの方は、勤務先（任意継続の方は当組合）へお返しください。")
    else:
        after = _("当組合からは、%(last)sより後の日付の資格確認書はお送りしません。") % values
    return EndWords(end=end, ended=ended, short=short, event=event, headline=headline,
                    what_next=_what_next(end), no_certificate=after)


def end_of(person, *, today: date) -> EndWords | None:
    """The end of ``person``'s eligibility in words, when the member is told it on ``today``
    (it has come, or a certificate issued today would run to it); None before eligibility began."""
    if today < person.eligible_from:
        return None
    return words_if_worth_telling(person.eligibility_end(), today=today)


def words_if_worth_telling(end: EligibilityEnd, *, today: date) -> EndWords | None:
    """``end_words`` when the member is told about ``end`` on ``today``: it has come, or a
    資格確認書 issued today would run to it (``rules.end_worth_telling``, R8's validity)."""
    if end_worth_telling(end, today=today, years=settings.KENPO_CERTIFICATE_VALID_YEARS):
        return end_words(end, today=today)
    return None
