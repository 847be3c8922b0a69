from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from eligibility.models import Society
from imports.models import ImportRun


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("取り込むファイルの種類"), choices=ImportRun.Kind.choices, widget=forms.RadioSelect)
    society = forms.ModelChoiceField(label=_("保険者"), queryset=Society.objects.order_by("pk"), empty_label=None)
    file = forms.FileField(label=_("CSVファイル"), help_text=_("UTF-8（BOMあり・なし）または Shift_JIS（CP932）"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.KENPO_IMPORT_MAX_UPLOAD_MB
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(
                _("ファイルが大きすぎます（%(n)sMBまで）。") % {"n": limit}
            )
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError(_("CSVファイル（.csv）を選んでください。"))
        return upload
