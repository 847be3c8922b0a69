from django import forms
from django.utils.translation import gettext_lazy as _


class DecideForm(forms.Form):
    """A second staff member's decision on the page 決裁 (the note refuses a My Number, as every text box)."""

    decision = forms.ChoiceField(choices=[("approve", _("承認する")), ("reject", _("差し戻す"))])
    note = forms.CharField(label=_("メモ（任意）"), max_length=300, required=False)
