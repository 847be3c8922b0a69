"""Forms of the eligibility admin that need more than the model's defaults."""

from django import forms

from .models import Household, normalise_digits


class HouseholdAdminForm(forms.ModelForm):
    """記号・番号 compare without leading zeros (``Household.save`` strips them), so the
    form strips them before its uniqueness check: ``0005678`` next to an existing
    ``5678`` is a clear "already exists" on the form, not an IntegrityError (a 500 whose
    log line would carry the numbers)."""

    class Meta:
        model = Household
        fields = "__all__"  # noqa: DJ007 (the admin decides the fields shown)

    def clean_symbol(self):
        return normalise_digits(self.cleaned_data["symbol"])

    def clean_number(self):
        return normalise_digits(self.cleaned_data["number"])
