"""「受診のときは」: for one person, what works at the clinic today and what comes next.

Every R5 status × 資格確認書 state × R6 basis has a sentence here, and only here: the
dashboard card, the household summary and the tests read ``answer()``. Dates come in
already derived (``rules`` via ``CardFacts``; R6 via the proof provider); this module
only chooses words.
"""

from dataclasses import dataclass
from datetime import date

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from core.wareki import format_member_date
from eligibility.ending import EndWords
from eligibility.rules import Status

from .proofs import Proof

# R6's bases in the member's words (keys: certificates.ex_officio's basis names).
BASIS_REASONS = {
    "cutoff": gettext_lazy("令和6年12月1日以前から加入していて、マイナ保険証をお使いでないため"),
    "enrolment_form": gettext_lazy("加入のときに発行を希望されたため"),
    "lapsed": gettext_lazy("マイナ保険証の有効期限が切れたため"),
    "no_my_number": gettext_lazy("当組合でのマイナンバーの登録手続きが済んでいないため"),
    "renewal": gettext_lazy("お持ちの資格確認書の有効期限が近いため"),
}
NO_CARD_USE = (Status.NO_CARD, Status.NOT_REGISTERED, Status.LAPSED)
# The household summary's order (issue 21): who has nothing to show at the clinic first,
# then who must renew now, then who only has to tell us what they have; then the rest.
URGENT, RENEW, TELL_US, CALM = 0, 1, 2, 3


@dataclass(frozen=True)
class Answer:
    today: str          # what works at the clinic today (one or two sentences)
    next: str           # what comes next, in dates
    short_today: str    # the household summary: a few words each
    short_next: str
    needs_action: bool  # the member has something to do (the summary marks it)
    may_request: bool   # the request link is offered (never to someone covered ex officio)
    urgency: int = CALM  # the summary's order, URGENT first

    def told_the_end(self, end: EndWords | None) -> "Answer":
        """This answer followed by the end of eligibility (the day, what comes next, no
        certificate past it); the summary shows the end when nothing else is to do."""
        if end is None:
            return self
        return Answer(self.today, f"{self.next} {end.text}", self.short_today,
                      self.short_next if self.needs_action else end.short,
                      needs_action=self.needs_action, may_request=self.may_request, urgency=self.urgency)


def _d(day: date) -> str:
    return format_member_date(day, get_language() or "ja")


def _route(proof: Proof) -> str:
    return _("ご自宅へ郵送で") if proof.by_post else _("勤務先（事業所）経由で")


def _certificate_today(proof: Proof) -> str:
    c = proof.certificate
    if c.state == "mailed" and c.mailed_on:
        return _("資格確認書（No. %(serial)s、%(until)sまで有効。%(mailed)sに発送しました）で受診できます。") % {
            "serial": c.serial, "until": _d(c.valid_until), "mailed": _d(c.mailed_on)}
    return _("資格確認書（No. %(serial)s、%(until)sまで有効）を作成・発送の準備中です。届いたら、それで受診できます。") % {
        "serial": c.serial, "until": _d(c.valid_until)}


def _ex_officio_next(proof: Proof) -> str:
    text = _("資格確認書を申請なしでお送りします（%(reason)s）。%(route)s、%(by)sごろまでに届く予定です。申請は不要です。") % {
        "reason": BASIS_REASONS.get(proof.basis, ""), "route": _route(proof), "by": _d(proof.expected_by)}
    return text


def answer(*, status: Status | None, proof: Proof, today: date, expires_on: date | None = None,
           renewal_opens_on: date | None = None, grace_ends_on: date | None = None, thing: str = "",
           end: EndWords | None = None) -> Answer:
    """The sentences for one person on ``today``. ``thing`` is what expires first
    (電子証明書 or マイナンバーカード), ``expires_on`` R5's e; ``end`` the end of
    eligibility when the member is told it (``ending.words_if_worth_telling``)."""
    if status is None:
        if end is not None and end.ended:
            return Answer(today=end.headline + " " + _("当組合の資格では受診できません。"),
                          next=end.then, short_today=_("当組合の資格は%(last)sまででした") % {"last": _d(end.end.last_day)},
                          short_next="", needs_action=False, may_request=False)
        return Answer(
            today=_("この日は当組合の加入者ではないため、当組合の資格では受診できません。"),
            next=_("資格の取得日・喪失日は、当組合にお問い合わせください（お問い合わせ先はページの下にあります）。"),
            short_today=_("当組合の加入者ではありません"), short_next="", needs_action=False, may_request=False)
    last_day = end.end.last_day if end else None
    if status == Status.UNKNOWN:
        return _unknown(proof=proof, last_day=last_day).told_the_end(end)
    if status in NO_CARD_USE:
        return _without_card_use(status=status, proof=proof, thing=thing, last_day=last_day).told_the_end(end)
    return _card_works(status=status, proof=proof, expires_on=expires_on, renewal_opens_on=renewal_opens_on,
                       grace_ends_on=grace_ends_on, thing=thing, last_day=last_day).told_the_end(end)


def _card_works(*, status: Status, proof: Proof, expires_on: date | None, renewal_opens_on: date | None,
                grace_ends_on: date | None, thing: str, last_day: date | None) -> Answer:
    certificate = proof.certificate
    # A マイナ保険証 that works today (active, renew_now, grace).
    if status == Status.GRACE:
        today_text = _("マイナ保険証で受診できます（猶予期間として%(grace)sまで。診療・お薬の情報は共有されません）。") % {
            "grace": _d(grace_ends_on)}
        short_today = _("マイナ保険証（猶予期間：%(grace)sまで）") % {"grace": _d(grace_ends_on)}
    elif expires_on is None:
        today_text = _("マイナ保険証で受診できます（有効期限は未入力です）。")
        short_today = _("マイナ保険証")
    else:
        today_text = _("マイナ保険証で受診できます（%(expiry)sまで）。") % {"expiry": _d(expires_on)}
        short_today = _("マイナ保険証（%(expiry)sまで）") % {"expiry": _d(expires_on)}
    if certificate and certificate.state == "mailed" and certificate.mailed_on:
        today_text += " " + _("資格確認書（No. %(serial)s、%(until)sまで有効。%(mailed)sに発送しました）もお持ちです。") % {
            "serial": certificate.serial, "until": _d(certificate.valid_until), "mailed": _d(certificate.mailed_on)}
    elif certificate:
        today_text += " " + _("資格確認書（No. %(serial)s、%(until)sまで有効）を発送の準備中です。") % {
            "serial": certificate.serial, "until": _d(certificate.valid_until)}
    if status == Status.ACTIVE:
        if expires_on is None:
            return Answer(today_text, _("カードの表面に印字された有効期限を入力すると、更新の時期をお知らせできます。"),
                          short_today, _("カードの有効期限を入力"), needs_action=False, may_request=False)
        next_text = _("%(thing)sの有効期限は%(expiry)sです。%(opens)sから%(expiry)sまでに、市区町村の窓口で更新してください。") % {
            "thing": thing, "expiry": _d(expires_on), "opens": _d(renewal_opens_on)}
        short_next = _("%(opens)sから更新できます") % {"opens": _d(renewal_opens_on)}
        return Answer(today_text, next_text, short_today, short_next, needs_action=False, may_request=False)
    if status == Status.RENEW_NOW:
        next_text = _("いま更新できます。%(expiry)sまでに、市区町村の窓口で%(thing)sを更新してください。") % {
            "thing": thing, "expiry": _d(expires_on)}
        short_next = _("%(expiry)sまでに%(thing)sを更新") % {"thing": thing, "expiry": _d(expires_on)}
        return Answer(today_text, next_text, short_today, short_next, needs_action=True, may_request=False,
                      urgency=RENEW)
    # Grace: renew now; R6.3 sends a 資格確認書 before the registration is cancelled.
    next_text = _("すぐに市区町村の窓口で%(thing)sを更新してください。更新しないと、%(grace)sの翌日に保険証としての利用登録が取り消されます。") % {
        "thing": thing, "grace": _d(grace_ends_on)}
    if certificate is None and proof.basis:
        next_text += " " + _ex_officio_next(proof)
    elif certificate is None and proof.listed_from and (last_day is None or proof.listed_from <= last_day):
        next_text += " " + _("%(day)sまでに更新が確認できなければ、資格確認書を申請なしで%(route)sお送りします。") % {
            "day": _d(proof.listed_from), "route": _route(proof)}
    short_next = _("すぐに%(thing)sを更新") % {"thing": thing}
    return Answer(today_text, next_text, short_today, short_next, needs_action=True, may_request=False, urgency=RENEW)


def _unknown(*, proof: Proof, last_day: date | None) -> Answer:
    """R5 ``unknown``: nobody has told the society about the card yet. Never 「カードがない」:
    the member is asked what they have (the card-facts form)."""
    tell_us = _("マイナンバーカードと保険証の利用登録の状況が、当組合ではまだ分かりません。"
                "「カード情報を更新する」から教えてください。分かると、更新の時期などをお知らせできます。")
    certificate = proof.certificate
    if certificate:
        today_text = _certificate_today(proof)
        short_today = _("資格確認書（%(until)sまで）") % {"until": _d(certificate.valid_until)}
    else:
        today_text = _("マイナ保険証か資格確認書をお持ちなら、それで受診できます。")
        short_today = _("まだ分かりません")
    if proof.basis and not certificate:
        next_text = _ex_officio_next(proof) + " " + tell_us
    elif proof.basis == "renewal" and certificate:
        next_text = _renewal_next(proof) + " " + tell_us
    elif proof.open_request_id:
        next_text = _open_request_next(proof) + " " + tell_us
    else:
        next_text = tell_us
    return Answer(today_text, next_text, short_today, _("カードの状況を教えてください"),
                  needs_action=True, may_request=not proof.basis and not proof.open_request_id, urgency=TELL_US)


def _renewal_next(proof: Proof) -> str:
    return _("資格確認書の有効期限（%(until)s）が近いため、新しいものを申請なしで%(route)sお送りします（%(by)sごろまで）。申請は不要です。") % {
        "until": _d(proof.certificate.valid_until), "route": _route(proof), "by": _d(proof.expected_by)}


def _open_request_next(proof: Proof) -> str:
    return _("資格確認書の申請を受け付けています（%(state)s）。結果はメールとこの画面でお知らせします。") % {
        "state": proof.open_request_label}


def _without_card_use(*, status: Status, proof: Proof, thing: str, last_day: date | None) -> Answer:
    certificate = proof.certificate
    to_card = {
        Status.NO_CARD: _("マイナンバーカードを作って保険証として利用登録をすれば、マイナ保険証で受診できるようになります。"),
        Status.NOT_REGISTERED: _("カードを保険証として利用登録すれば（マイナポータル、セブン銀行ATM、医療機関・薬局のカードリーダー）、マイナ保険証で受診できます。"),
        Status.LAPSED: _("%(thing)sを更新して、もう一度保険証として利用登録をすれば、マイナ保険証に戻せます。") % {"thing": thing},
    }[status]
    if certificate:
        today_text = _certificate_today(proof)
        short_today = _("資格確認書（%(until)sまで）") % {"until": _d(certificate.valid_until)}
        if proof.basis == "renewal":
            next_text = _renewal_next(proof)
            short_next = _("新しい資格確認書をお送りします（%(by)sごろ）") % {"by": _d(proof.expected_by)}
        elif last_day is not None and certificate.valid_until >= last_day:
            # It runs to the last eligible day: no renewal will come (R6.5, R8).
            next_text = _("この資格確認書は、当組合の資格の最終日まで使えます。") + " " + to_card
            short_next = _("対応は不要です")
        else:
            next_text = _("有効期限が近づいたら、新しい資格確認書を申請なしでお送りします。") + " " + to_card
            short_next = _("対応は不要です")
        return Answer(today_text, next_text, short_today, short_next, needs_action=False, may_request=True)
    today_text = _("いま受診のときに見せられるものがありません。")
    short_today = _("受診に使えるものがありません")
    if proof.basis:
        return Answer(today_text, _ex_officio_next(proof) + " " + to_card, short_today,
                      _("資格確認書をお送りします（%(by)sごろ）") % {"by": _d(proof.expected_by)},
                      needs_action=False, may_request=False)
    if proof.open_request_id:
        return Answer(today_text, _open_request_next(proof) + " " + to_card,
                      short_today, _("申請中（%(state)s）") % {"state": proof.open_request_label},
                      needs_action=False, may_request=False)
    reason = {
        Status.NO_CARD: _("理由は「マイナンバーカードを持っていない、または保険証として利用登録していない」"),
        Status.NOT_REGISTERED: _("理由は「マイナンバーカードを持っていない、または保険証として利用登録していない」"),
        Status.LAPSED: _("理由は「電子証明書の有効期限が切れた」か「マイナンバーカードを更新中」"),
    }[status]
    return Answer(today_text,
                  _("受診には資格確認書が必要です。下の「資格確認書を申請する」から申請してください（%(reason)s）。") % {
                      "reason": reason} + " " + to_card,
                  short_today, _("資格確認書を申請してください"), needs_action=True, may_request=True, urgency=URGENT)
