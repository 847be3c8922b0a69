"""The certificate request forms (R7) of both doors — a member for their household, an
employer contact for an employee or a dependent (R12): the reason first, then the details
it needs."""

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from certificates.models import ACCEPTED_REASONS, REFUSED_REASONS, Reason
from core.fields import FreeTextFormField
from eligibility.selectors import today

# What each accepted reason asks for (R7): the date field's label (None: no date) and
# whether it is required, and whether the free text is required.
REASON_DETAILS = {
    Reason.NO_CARD: {"date": None, "date_required": False,
                     "hint": _("マイナンバーカードを作って保険証として利用登録をすれば、マイナ保険証で受診できるようになります。それまでは資格確認書で受診できます。")},
    Reason.CARD_LOST: {"date": _("紛失に気づいた日"), "date_required": True,
                       "hint": _("警察への遺失届と、マイナンバー総合フリーダイヤル（0120-95-0178）でのカードの一時利用停止がまだでしたら、先にお済ませください。")},
    Reason.CARD_RENEWING: {"date": _("カードの更新を申請した日（わかれば）"), "date_required": False,
                           "hint": _("新しいカードを受け取って利用登録をすれば、またマイナ保険証として使えます。")},
    Reason.ECERT_EXPIRED: {"date": _("電子証明書の有効期限（わかれば）"), "date_required": False,
                           "hint": _("市区町村の窓口で電子証明書を更新すれば、またマイナ保険証として使えます。")},
    Reason.CARD_RETURNED: {"date": _("カードを返納した日"), "date_required": True, "hint": ""},
    Reason.NEEDS_HELPER: {"date": None, "date_required": False, "details_required": True,
                          "hint": _("ご本人だけではマイナ保険証を使うのが難しい事情（介助者の方が受診に付き添う、など）を教えてください。")},
    Reason.CERTIFICATE_LOST: {"date": _("なくした・破損に気づいた日"), "date_required": True,
                              "hint": _("破損した資格確認書は、新しいものが届いたら当組合へお返しください。")},
}


class ReasonForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("資格確認書が必要な理由を選んでください"),
        choices=[(r.value, r.label) for r in (*ACCEPTED_REASONS, *REFUSED_REASONS)],
        widget=forms.RadioSelect,
        error_messages={"required": _("理由を選んでください。")},
    )


EARLIEST_DAY = date(2016, 1, 1)


class RequestDetailsForm(forms.Form):
    noticed_on = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("日付を 2026-11-25 の形で入力してください。")},
    )
    details = FreeTextFormField(
        label=_("詳しい事情（任意）"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("マイナンバー（12桁の個人番号）は書かないでください。"),
    )

    def __init__(self, *args, reason: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.config = REASON_DETAILS[Reason(reason)]
        if self.config["date"] is None:
            del self.fields["noticed_on"]
        else:
            self.fields["noticed_on"].label = self.config["date"]
            self.fields["noticed_on"].required = self.config["date_required"]
            self.fields["noticed_on"].error_messages["required"] = _("日付を入力してください。")
        if self.config.get("details_required"):
            self.fields["details"].required = True
            self.fields["details"].label = _("詳しい事情")
            self.fields["details"].error_messages["required"] = _("事情を入力してください。")

    def clean_noticed_on(self):
        # Every reason's date has already happened (an e-certificate that has not yet
        # expired is "just in case", which R7 refuses), and none is before the first
        # My Number cards of January 2016.
        day = self.cleaned_data.get("noticed_on")
        if day and day > today():
            raise forms.ValidationError(_("未来の日付は入力できません。"))
        if day and day < EARLIEST_DAY:
            raise forms.ValidationError(_("2016年1月より前の日付は入力できません。"))
        return day
