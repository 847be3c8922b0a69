"""One upload of a CSV file by staff, kept from preview to confirmation.

The file itself is saved under MEDIA_ROOT; the run keeps what the preview found
(counts, samples and every bad row) so the confirmation never relies on the
session. Confirming parses the stored file again inside the transaction and
refuses if the result no longer matches what staff saw.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportRun(models.Model):
    """A roster (加入者名簿) or registration-status (利用登録状況) file upload."""

    class Kind(models.TextChoices):
        ROSTER = "roster", _("加入者名簿")
        REGISTRATION = "registration", _("利用登録状況")

    class Status(models.TextChoices):
        PREVIEW = "preview", _("確認待ち")
        CONFIRMED = "confirmed", _("取込済み")
        FAILED = "failed", _("取込失敗")

    kind = models.CharField("種類", max_length=16, choices=Kind.choices)
    status = models.CharField("状態", max_length=16, choices=Status.choices, default=Status.PREVIEW)
    society = models.ForeignKey("eligibility.Society", verbose_name="保険者", on_delete=models.PROTECT, related_name="+")
    file = models.FileField("ファイル", upload_to="imports/%Y/%m/", max_length=200)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    encoding = models.CharField("文字コード", max_length=16, blank=True)
    row_count = models.PositiveIntegerField("行数", default=0)
    # {"created": n, "updated": n, "ended": n, "unchanged": n, "kept": n}
    counts = models.JSONField("件数", default=dict, blank=True)
    # {"created": [...], "updated": [...], "ended": [...], "kept": [...]}: the first rows of each, for the preview.
    samples = models.JSONField("内容の例", default=dict, blank=True)
    # [{"line": n, "message": "..."}]: every bad row, line 0 for the file as a whole.
    errors = models.JSONField("エラー", default=list, blank=True)
    failure = models.CharField("失敗の理由", max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="取込者", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("アップロード日時", auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="確定者", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField("確定日時", null=True, blank=True)
    seconds = models.FloatField("処理時間（秒）", null=True, blank=True)

    class Meta:
        verbose_name = "データ取込"
        verbose_name_plural = "データ取込"
        ordering = ["-uploaded_at"]
        permissions = [("run_import", "名簿・利用登録状況の取込を実行できる")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}（{self.get_status_display()}）"

    @property
    def changes(self) -> int:
        return sum(self.counts.get(k, 0) for k in ("created", "updated", "ended"))

    @property
    def can_confirm(self) -> bool:
        return self.status == self.Status.PREVIEW and not self.errors
