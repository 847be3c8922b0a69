from django import forms
from django.utils.translation import gettext_lazy as _

from eligibility.models import Society

from .models import ImportRun

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("取り込むファイルの種類"), choices=ImportRun.Kind.choices, widget=forms.RadioSelect)
    society = forms.ModelChoiceField(label=_("保険者"), queryset=Society.objects.order_by("pk"), empty_label=None)
    file = forms.FileField(label=_("CSVファイル"), help_text=_("UTF-8（BOMあり・なし）または Shift_JIS（CP932）"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("ファイルが大きすぎます（50MBまで）。 / The file is too large (50 MB at most)."))
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError(_("CSVファイル（.csv）を選んでください。 / Choose a CSV file (.csv)."))
        return upload
