"""Forms of the employer pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from certificates.models import Collection, PacketItem
from eligibility.models import symbol_number_validator


class MarkForm(forms.Form):
    """Items of one packet: hand them over, or send them back with a reason."""

    items = forms.TypedMultipleChoiceField(coerce=int, choices=[], label=_("対象"),
                                           error_messages={"required": _("対象の方を選んでください。")})
    action = forms.ChoiceField(choices=[("handed", _("手渡し済みにする")), ("returned", _("返送する"))])
    return_reason = forms.ChoiceField(label=_("返送の理由"), required=False,
                                      choices=[("", "---------"), *PacketItem.ReturnReason.choices])

    def __init__(self, *args, item_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(pk, pk) for pk in item_ids]

    def clean(self):
        data = super().clean()
        if data.get("action") == "returned" and not data.get("return_reason"):
            self.add_error("return_reason", _("返送の理由を選んでください。"))
        return data


class FindPersonForm(forms.Form):
    """The insured person's 記号・番号, as HR has it: a POST, never in a URL (R9)."""

    symbol = forms.CharField(label=_("記号"), max_length=8, validators=[symbol_number_validator])
    number = forms.CharField(label=_("番号"), max_length=8, validators=[symbol_number_validator])


class CollectionForm(forms.Form):
    certificate = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(choices=Collection.Outcome.choices)
