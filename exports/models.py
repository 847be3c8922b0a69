"""A CSV export run as a background job: streamed to a file, then downloaded (audited).

Any list that can exceed a few thousand rows is exported this way rather than inside
the request: the request queues the job and shows its progress; the file is kept for
KENPO_EXPORT_KEEP_DAYS and only its requester may download it.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("出力待ち")
        RUNNING = "running", _("出力中")
        DONE = "done", _("出力済み")
        FAILED = "failed", _("出力失敗")
        EXPIRED = "expired", _("期限切れ（削除済み）")

    RUNNING_STATES = (Status.QUEUED, Status.RUNNING)

    # The exporter's name in ``exports.registry`` (e.g. "ex_officio").
    kind = models.CharField("種類", max_length=32)
    # What the exporter needs to find the rows again: the list's filter, selected ids.
    params = models.JSONField("条件", default=dict, blank=True)
    encoding = models.CharField("文字コード", max_length=8, default="utf8")
    status = models.CharField("状態", max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField("行数（見込み）", default=0)
    rows_written = models.PositiveIntegerField("書き出した行", default=0)
    file = models.FileField("ファイル", upload_to="exports/%Y/%m/", max_length=200, blank=True)
    failure = models.CharField("失敗の理由", max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="依頼者", null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("依頼日時", auto_now_add=True)
    started_at = models.DateTimeField("開始", null=True, blank=True)
    finished_at = models.DateTimeField("終了", null=True, blank=True)

    class Meta:
        verbose_name = "CSV出力"
        verbose_name_plural = "CSV出力"
        ordering = ["-created_at"]
        default_permissions = ()  # each exporter names the permission it needs

    def __str__(self) -> str:
        return f"CSV出力 #{self.pk}（{self.get_status_display()}）"

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING_STATES
