"""One upload of a CSV file by staff, kept from preview to confirmation, and its staged rows.

The file is saved under MEDIA_ROOT and read by a background job (the ``imports``
queue) that parses it row by row into a staging table (``StagedRegistrationRow`` or
``StagedRosterRow``: PostgreSQL ``COPY``), then compares it with the database in a few
set-based queries. The run keeps what the preview found (counts, samples, every bad
row) and its progress, so a reload of the page shows where the job is. Confirming
applies the staged rows in one transaction and refuses if the result no longer
matches what staff saw. The upload and the staged rows are deleted once a run is
confirmed, refused or expired.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ImportRun(models.Model):
    """A roster (加入者名簿) or registration-status (利用登録状況) file upload."""

    class Kind(models.TextChoices):
        ROSTER = "roster", _("加入者名簿")
        REGISTRATION = "registration", _("利用登録状況")

    class Status(models.TextChoices):
        QUEUED = "queued", _("読込待ち")
        CHECKING = "checking", _("確認中")
        PREVIEW = "preview", _("確認待ち")
        AWAITING = "awaiting", _("決裁待ち")
        REFUSED = "refused", _("取込不可（エラーの行あり）")
        CONFIRMING = "confirming", _("書込中")
        CONFIRMED = "confirmed", _("取込済み")
        FAILED = "failed", _("取込失敗")
        EXPIRED = "expired", _("期限切れ")

    # A job is working (or waiting for a worker) in these: the page refreshes itself.
    RUNNING = (Status.QUEUED, Status.CHECKING, Status.CONFIRMING)
    # Checked, then being written or written.
    WRITING = (Status.CONFIRMING, Status.CONFIRMED)
    # Never confirmed: these expire (KENPO_IMPORT_RUN_EXPIRY_DAYS).
    UNCONFIRMED = (Status.QUEUED, Status.CHECKING, Status.PREVIEW, Status.AWAITING, Status.REFUSED, Status.FAILED)

    kind = models.CharField("種類", max_length=16, choices=Kind.choices)
    status = models.CharField("状態", max_length=16, choices=Status.choices, default=Status.QUEUED)
    society = models.ForeignKey("eligibility.Society", verbose_name="保険者", on_delete=models.PROTECT, related_name="+")
    file = models.FileField("ファイル", upload_to="imports/%Y/%m/", max_length=200, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, db_index=True)
    size = models.PositiveBigIntegerField("ファイルの大きさ（バイト）", default=0)
    encoding = models.CharField("文字コード", max_length=16, blank=True)
    row_count = models.PositiveIntegerField("行数", default=0)
    # Progress of the job, for the progress bar (rows_total is the file's line count).
    rows_total = models.PositiveIntegerField("全行数（見込み）", default=0)
    rows_read = models.PositiveIntegerField("読んだ行", default=0)
    rows_checked = models.PositiveIntegerField("確認した行", default=0)
    rows_written = models.PositiveIntegerField("書き込んだ行", default=0)
    # {"created": n, "updated": n, "ended": n, "unchanged": n, "kept": n, ...}
    counts = models.JSONField("件数", default=dict, blank=True)
    # The changes counted by kind: a roster's per field ({"family_name": n, "employer_id": n, …}), a
    # registration file's per change of status ({"to_unregistered": n, "as_of_only": n, …}).
    kinds = models.JSONField("変更の内訳", default=dict, blank=True)
    # The society's persons when the file was checked: what a "large change" is a share of.
    population = models.PositiveIntegerField("確認時の加入者数", default=0)
    # {"created": [...], "updated": [...], "ended": [...], "kept": [...]}: the first rows of each, for the preview.
    samples = models.JSONField("内容の例", default=dict, blank=True)
    # [{"line": n, "message": "..."}]: bad rows (the first ERRORS_KEPT), line 1 for the file as a whole.
    errors = models.JSONField("エラー", default=list, blank=True)
    error_count = models.PositiveIntegerField("エラーの行数", default=0)
    # [{"line": n, "message": "..."}]: rows accepted with a warning (e.g. aged 75+ without 資格喪失日, R11).
    warnings = models.JSONField("注意", default=list, blank=True)
    warning_count = models.PositiveIntegerField("注意の行数", default=0)
    # The optional columns the file has (a roster's 郵便番号, 住所 …): the others are left as stored.
    columns = models.JSONField("任意の列", default=list, blank=True)
    failure = models.CharField("失敗の理由", max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="取込者", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("アップロード日時", auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="確定者", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField("確定日時", null=True, blank=True)
    # When the current job (check or write) started and ended: its outcome is e-mailed
    # when it took longer than KENPO_IMPORT_EMAIL_AFTER_SECONDS.
    started_at = models.DateTimeField("処理開始", null=True, blank=True)
    finished_at = models.DateTimeField("処理終了", null=True, blank=True)
    # Written with each step of a check: a check whose worker died stops moving.
    heartbeat_at = models.DateTimeField("最終進捗", null=True, blank=True)
    seconds = models.FloatField("処理時間（秒）", null=True, blank=True)

    class Meta:
        verbose_name = "データ取込"
        verbose_name_plural = "データ取込"
        ordering = ["-uploaded_at"]
        permissions = [("run_import", "名簿・利用登録状況の取込を実行できる")]
        indexes = [models.Index(fields=["status", "uploaded_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}（{self.get_status_display()}）"

    @property
    def changes(self) -> int:
        return sum(self.counts.get(k, 0) for k in ("created", "updated", "ended"))

    @property
    def overwrites(self) -> int:
        """Stored persons whose facts this file changes (not new persons, not a first statement,
        not a newer 基準日 of the same status): what the large-change warning counts."""
        if self.kind == self.Kind.REGISTRATION:
            return sum(self.kinds.get(k, 0) for k in ("to_unregistered", "to_registered"))
        return sum(self.counts.get(k, 0) for k in ("updated", "ended", "households_updated"))

    @property
    def overwrites_percent(self) -> float:
        return round(self.overwrites * 100 / self.population, 1) if self.population else 0.0

    @property
    def is_large_change(self) -> bool:
        """More than KENPO_IMPORT_LARGE_CHANGE_PERCENT of the society's persons change: the clerk
        confirms twice, and (four eyes) a second staff member approves."""
        return self.overwrites * 100 > settings.KENPO_IMPORT_LARGE_CHANGE_PERCENT * self.population

    @property
    def can_confirm(self) -> bool:
        return self.status == self.Status.PREVIEW and not self.error_count

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def expires_at(self):
        return self.uploaded_at + timedelta(days=settings.KENPO_IMPORT_RUN_EXPIRY_DAYS)

    @property
    def is_stalled(self) -> bool:
        """A write whose worker is gone: restartable by staff (nothing was written)."""
        lease = timedelta(seconds=settings.KENPO_IMPORT_STALLED_AFTER_SECONDS)
        return self.status == self.Status.CONFIRMING and self.started_at is not None and (
            timezone.now() - self.started_at > lease
        )


class StagedRegistrationRow(models.Model):
    """One well-formed row of a registration-status file, loaded by ``COPY`` for set-based checks and writes."""

    # One index, the primary key (run, line), and no database constraint: each costs work per
    # row of a COPY (an automatic id, its sequence and its index made loading 100,000 rows 2.5
    # times slower). Staged rows are deleted with their run's upload (services._delete_staged).
    pk = models.CompositePrimaryKey("run", "line")
    run = models.ForeignKey(ImportRun, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False,
                            db_index=False)
    line = models.PositiveIntegerField()
    symbol = models.CharField(max_length=8)
    number = models.CharField(max_length=8)
    branch_number = models.CharField(max_length=2)
    registered = models.BooleanField()
    as_of = models.DateField()

    class Meta:
        default_permissions = ()  # internal: never shown in the admin

    def __str__(self) -> str:
        return f"#{self.run_id} {self.line}行目"


class StagedRosterRow(models.Model):
    """One well-formed row of a roster file, loaded by ``COPY`` for set-based checks and writes.

    The household's own columns (事業所番号, 任意継続 and its end, 郵便番号, 住所) count on
    the household's head row (its insured person's, or its first); a column absent from
    the file is null here and leaves the stored value as it is.
    """

    run = models.ForeignKey(ImportRun, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    line = models.PositiveIntegerField()
    symbol = models.CharField(max_length=8)
    number = models.CharField(max_length=8)
    branch_number = models.CharField(max_length=2)
    relationship = models.CharField(max_length=8)
    family_name = models.CharField(max_length=40)
    given_name = models.CharField(max_length=40)
    family_name_kana = models.CharField(max_length=60)
    given_name_kana = models.CharField(max_length=60)
    sex = models.CharField(max_length=1)
    birth_date = models.DateField()
    eligible_from = models.DateField()
    eligible_until = models.DateField(null=True)
    certificate_wanted = models.BooleanField()
    my_number_registered = models.BooleanField(null=True)
    employer_code = models.CharField(max_length=16, blank=True)
    voluntary_continuation = models.BooleanField()
    voluntary_continuation_ends_on = models.DateField(null=True)
    # Null: the column is absent from the file (blank clears the stored value).
    postal_code = models.CharField(max_length=8, null=True)  # noqa: DJ001
    address = models.CharField(max_length=200, null=True)  # noqa: DJ001
    # Person.search_text of the row's names (core.kana folds them in Python, while parsing).
    search_text = models.CharField(max_length=400, blank=True)

    class Meta:
        default_permissions = ()  # internal: never shown in the admin

    def __str__(self) -> str:
        return f"#{self.run_id} {self.line}行目"
