"""Member forms: linking a login, and the card facts of one person.

Every message is one sentence in the page's language (Japanese msgids, English through
gettext): never two languages in one error.
"""

from datetime import date

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.mynumber import refuse_my_number
from core.wareki import format_member_date
from eligibility import rules
from eligibility.models import CardFacts, Person

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d"]
INVALID_DATE = _("日付は 2026-11-14 のように入力してください。")


def _date_field(label, help_text="", required=False):
    return forms.DateField(
        label=label, required=required, widget=DATE_WIDGET, input_formats=DATE_FORMATS, help_text=help_text,
        error_messages={"invalid": INVALID_DATE, "required": _("入力してください。")},
    )


def _digits(value: str) -> str:
    """Full-width digits and stray spaces/hyphens as members type them → ASCII digits."""
    import unicodedata

    return "".join(ch for ch in unicodedata.normalize("NFKC", value or "") if ch.isdigit())


def _up_to_eight_digits(value: str) -> str:
    digits = _digits(value)
    if len(digits) > 8:
        raise forms.ValidationError(_("記号・番号は8桁までの数字です。"))
    return digits


class LinkForm(forms.Form):
    """記号・番号・枝番, birth date and the activation code from the postcard."""

    required_error = {"required": _("入力してください。")}
    symbol = forms.CharField(label=_("記号"), max_length=16, error_messages=required_error, validators=[refuse_my_number],
                             widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    number = forms.CharField(label=_("番号"), max_length=16, error_messages=required_error, validators=[refuse_my_number],
                             widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    branch_number = forms.CharField(label=_("枝番"), max_length=4, error_messages=required_error,
                                    help_text=_("2桁の数字（例：00）"),
                                    widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    birth_date = _date_field(_("生年月日"), required=True)
    code = forms.CharField(label=_("連携コード"), max_length=32, error_messages=required_error, validators=[refuse_my_number],
                           help_text=_("はがきに印字された12文字（例：ABCD-EFGH-JKMN）"),
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "characters"}))

    def clean_symbol(self):
        return _up_to_eight_digits(self.cleaned_data["symbol"])

    def clean_number(self):
        return _up_to_eight_digits(self.cleaned_data["number"])

    def clean_branch_number(self):
        return _digits(self.cleaned_data["branch_number"])


ECERT_CHOICES = [
    (CardFacts.EcertSource.STATED, _("日付を確認した（下に入力）")),
    (CardFacts.EcertSource.FIVE_YEARS_BEFORE, _("カードの有効期限の5年前（カードを18歳以上で作り、まだ一度も更新していない）")),
    (CardFacts.EcertSource.SAME_AS_CARD, _("カードの有効期限と同じ（18歳未満で作った、またはすでに更新した）")),
    (CardFacts.EcertSource.UNKNOWN, _("わからない")),
]

ADULT_AGE = 18  # R1: a card made before this age is a 5-year card


YES_NO = [("yes", _("はい")), ("no", _("いいえ"))]


class CardFactsForm(forms.Form):
    """What the member knows of one person's card. Dates must be possible for that person."""

    has_card = forms.TypedChoiceField(
        label=_("マイナンバーカードを持っていますか"), choices=YES_NO, widget=forms.RadioSelect,
        coerce=lambda v: v == "yes",
        error_messages={"required": _("選んでください。")},
    )
    card_expires_on = _date_field(
        _("カードの有効期限"),
        help_text=_("カードの表面に「有効期限」として印字されています（誕生日になっています）。"),
    )
    ecert_choice = forms.ChoiceField(
        label=_("電子証明書の有効期限"), choices=ECERT_CHOICES, widget=forms.RadioSelect, required=False,
        initial=CardFacts.EcertSource.UNKNOWN,
    )
    ecert_expires_on = _date_field(
        _("電子証明書の有効期限（確認した日付）"),
        help_text=_("マイナポータルの「証明書の有効期限」か、J-LISから届く「有効期限通知書」で確認できます。"),
    )
    registered = forms.TypedChoiceField(
        label=_("健康保険証として利用登録をしましたか"), choices=YES_NO, widget=forms.RadioSelect,
        coerce=lambda v: v == "yes", required=False, empty_value=False,
    )
    uses_smartphone = forms.TypedChoiceField(
        label=_("スマートフォンでマイナ保険証を使っていますか"), choices=YES_NO, widget=forms.RadioSelect,
        coerce=lambda v: v == "yes", required=False, empty_value=False,
    )

    def __init__(self, *args, person: Person, today: date, **kwargs):
        self.person = person
        self.today = today
        super().__init__(*args, **kwargs)
        if person.age_on(today) < ADULT_AGE:
            # A minor's card was issued to a minor: its certificate ends with the card (R2).
            self.fields["ecert_choice"].choices = [
                c for c in ECERT_CHOICES if c[0] != CardFacts.EcertSource.FIVE_YEARS_BEFORE]

    @classmethod
    def initial_for(cls, facts: CardFacts | None) -> dict:
        if facts is None:
            return {"ecert_choice": CardFacts.EcertSource.UNKNOWN}
        return {
            # Nobody has said (R5 unknown): no answer is preselected.
            "has_card": None if facts.has_card is None else ("yes" if facts.has_card else "no"),
            "card_expires_on": facts.card_expires_on,
            "ecert_choice": facts.ecert_source or CardFacts.EcertSource.UNKNOWN,
            "ecert_expires_on": facts.ecert_expires_on if facts.ecert_source == CardFacts.EcertSource.STATED else None,
            "registered": "yes" if facts.registered else "no",
            "uses_smartphone": "yes" if facts.uses_smartphone else "no",
        }

    def _is_birthday(self, day: date) -> bool:
        return rules.birthday_in(self.person.birth_date, day.year) == day

    def _check_expiry(self, field: str, day: date | None, name) -> None:
        if day is None:
            return
        if day <= self.person.birth_date:
            self.add_error(field, _("%(name)sの有効期限が生年月日より前になっています。") % {"name": name})
        elif not self._is_birthday(day):
            self.add_error(field, _("%(name)sの有効期限は誕生日になっているはずです（生年月日と同じ月日）。もう一度お確かめください。")
                           % {"name": name})
        elif day > rules.add_months(self.today, 12 * 11):
            self.add_error(field, _("%(name)sの有効期限が遠すぎます（10年と少しが最長です）。") % {"name": name})

    def possible_ecerts(self, card: date) -> tuple[date, ...]:
        """R2: what an e-certificate on this card can end on — both candidates for a card
        issued to an adult, only the card's own expiry for one issued to a minor."""
        five_before, same = rules.ecert_candidates(card, birth_date=self.person.birth_date)
        return (same,) if rules.card_issued_to_a_minor(card, birth_date=self.person.birth_date) else (five_before, same)

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        has_card = data.get("has_card")
        if not has_card:
            if data.get("registered"):
                self.add_error("registered", _("カードがないと利用登録はできません。"))
            return data
        card = data.get("card_expires_on")
        choice = data.get("ecert_choice") or CardFacts.EcertSource.UNKNOWN
        ecert = data.get("ecert_expires_on")
        self._check_expiry("card_expires_on", card, _("カード"))
        if choice == CardFacts.EcertSource.STATED:
            if ecert is None:
                self.add_error("ecert_expires_on", _("確認した日付を入力してください。"))
            self._check_expiry("ecert_expires_on", ecert, _("電子証明書"))
            if ecert and card and "ecert_expires_on" not in self.errors and "card_expires_on" not in self.errors:
                possible = self.possible_ecerts(card)
                if ecert > card:
                    self.add_error("ecert_expires_on", _("電子証明書の有効期限はカードの有効期限より後にはなりません。"))
                elif ecert not in possible:
                    self.add_error("ecert_expires_on", _("このカードの電子証明書の有効期限は、%(days)sのはずです。もう一度お確かめください。") % {
                        "days": str(_("または")).join(format_member_date(d, get_language() or "ja") for d in possible)})
        elif choice == CardFacts.EcertSource.FIVE_YEARS_BEFORE and card and rules.card_issued_to_a_minor(card, birth_date=self.person.birth_date):
            self.add_error("ecert_choice", _("18歳未満で作ったカードの電子証明書は、カードと同じ日に有効期限を迎えます。「カードの有効期限と同じ」を選んでください。"))
        elif choice in (CardFacts.EcertSource.FIVE_YEARS_BEFORE, CardFacts.EcertSource.SAME_AS_CARD) and card is None:
            self.add_error("card_expires_on", _("候補を選ぶには、カードの有効期限を入力してください。"))
        return data

    def changes(self, current: CardFacts | None) -> dict:
        """The card facts to store, as ``services.update_card_facts`` takes them.

        A registration the member states (or withdraws) is marked as theirs, as of
        today; an unchanged one keeps its source (e.g. the national file).
        """
        values = self._values()
        if current is None or values["registered"] != current.registered:
            values["registration_source"] = CardFacts.RegistrationSource.MEMBER
            values["registration_as_of"] = self.today
        return values

    def _values(self) -> dict:
        data = self.cleaned_data
        if not data["has_card"]:
            return {"has_card": False, "card_expires_on": None, "ecert_expires_on": None,
                    "ecert_source": CardFacts.EcertSource.UNKNOWN, "registered": False, "uses_smartphone": False}
        card = data.get("card_expires_on")
        choice = data.get("ecert_choice") or CardFacts.EcertSource.UNKNOWN
        ecert = None
        if choice == CardFacts.EcertSource.STATED:
            ecert = data["ecert_expires_on"]
        elif choice in (CardFacts.EcertSource.FIVE_YEARS_BEFORE, CardFacts.EcertSource.SAME_AS_CARD):
            five_before, same = rules.ecert_candidates(card, birth_date=self.person.birth_date)
            ecert = five_before if choice == CardFacts.EcertSource.FIVE_YEARS_BEFORE else same
        return {"has_card": True, "card_expires_on": card, "ecert_expires_on": ecert, "ecert_source": choice,
                "registered": bool(data.get("registered")), "uses_smartphone": bool(data.get("uses_smartphone"))}
