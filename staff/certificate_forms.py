"""Forms of the clerk's certificate tools: voids, single issues, paper applications."""

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from certificates.models import ACCEPTED_REASONS, Basis, EligibilityCertificate, ReissueRequest
from core.fields import FreeTextFormField
from eligibility.selectors import today

# The society's paper applications are no older than the new certificates (令和6年12月2日).
EARLIEST_RECEIVED = date(2024, 12, 2)


class VoidForm(forms.Form):
    """Every void asks for its reason; the page itself is the confirmation."""

    reason = forms.ChoiceField(
        label=_("無効にする理由"), widget=forms.RadioSelect,
        choices=[(r.value, r.label) for r in EligibilityCertificate.STAFF_VOID_REASONS],
        error_messages={"required": _("無効にする理由を選んでください。")},
    )
    confirm = forms.BooleanField(
        label=_("この資格確認書は使えなくなり、印刷もできなくなることを確認しました"),
        error_messages={"required": _("確認のチェックを入れてください。")},
    )


class IssueOneForm(forms.Form):
    """Issue (or re-issue) one certificate from the person's page."""

    basis = forms.ChoiceField(label=_("交付の根拠"), choices=Basis.choices)


class PaperApplicationForm(forms.Form):
    """A paper application (申請書) entered by a clerk on the member's behalf."""

    reason = forms.ChoiceField(label=_("申請の理由"), choices=[(r.value, r.label) for r in ACCEPTED_REASONS])
    received_on = forms.DateField(
        label=_("申請書の受付日"), widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("受付日を入力してください。"),
                        "invalid": _("日付を 2026-11-25 の形で入力してください。")},
    )
    noticed_on = forms.DateField(
        label=_("日付（紛失に気づいた日など、申請書に書かれていれば）"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("日付を 2026-11-25 の形で入力してください。")},
    )
    details = FreeTextFormField(label=_("申請書に書かれた事情（任意）"), required=False, max_length=1000,
                                widget=forms.Textarea(attrs={"rows": 3}),
                                help_text=_("マイナンバー（12桁の個人番号）は書かないでください。"))

    def clean_received_on(self):
        day = self.cleaned_data["received_on"]
        if day > today():
            raise forms.ValidationError(_("未来の日付は入力できません。"))
        if day < EARLIEST_RECEIVED:
            raise forms.ValidationError(_("令和6年12月2日より前の日付は入力できません。"))
        return day

    def clean_noticed_on(self):
        day = self.cleaned_data.get("noticed_on")
        if day and day > today():
            raise forms.ValidationError(_("未来の日付は入力できません。"))
        return day


class RejectForm(forms.Form):
    reject_reason = forms.ChoiceField(label=_("お受けできない理由"), choices=ReissueRequest.RejectReason.choices)
    note = FreeTextFormField(label=_("備考（任意・申請者に表示されます）"), required=False, max_length=300)
