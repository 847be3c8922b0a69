"""資格確認書 (eligibility certificates), the batches that print them and the
members' re-issue requests (資格確認書（再）交付申請).

State machines live here as ``ALLOWED`` maps; ``services`` refuses any move not in
them with ``IllegalTransition``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.fields import FreeTextField
from eligibility import rules
from eligibility.models import Employer, Person


class IllegalTransition(Exception):
    """A status change the state machine does not allow."""


class Basis(models.TextChoices):
    """Why a certificate was issued: R6's five ex-officio bases (the values of
    ``rules.ExOfficioBasis``, in R6's order), or an application (R7)."""

    CUTOFF = rules.ExOfficioBasis.CUTOFF.value, _("職権①：令和6年12月1日以前の資格取得（カードなし・利用登録なし）")
    ENROLMENT_FORM = rules.ExOfficioBasis.ENROLMENT_FORM.value, _("職権②：加入時に発行希望")
    LAPSED = rules.ExOfficioBasis.LAPSED.value, _("職権③：マイナ保険証の期限切れ（利用登録の解除の前・後）")
    NO_MY_NUMBER = rules.ExOfficioBasis.NO_MY_NUMBER.value, _("職権④：個人番号未登録")
    RENEWAL = rules.ExOfficioBasis.RENEWAL.value, _("職権⑤：資格確認書の更新")
    APPLICATION = "application", _("申請")


class DeliveryRoute(models.TextChoices):
    EMPLOYER = "employer", _("事業所経由")
    POST = "post", _("本人へ直接郵送（任意継続）")


class EligibilityCertificate(models.Model):
    """A 資格確認書. ``snapshot`` keeps every printed field exactly as issued (R8)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("作成待ち")
        RENDERED = "rendered", _("作成済み")
        PRINTED = "printed", _("印刷済み")
        MAILED = "mailed", _("発送済み")
        VOID = "void", _("無効")

    # queued → rendered → printed → mailed; void from any of them.
    ALLOWED = {
        Status.QUEUED: {Status.RENDERED, Status.VOID},
        Status.RENDERED: {Status.PRINTED, Status.VOID},
        Status.PRINTED: {Status.MAILED, Status.VOID},
        Status.MAILED: {Status.VOID},
        Status.VOID: set(),
    }

    class VoidReason(models.TextChoices):
        ERROR = "error", _("誤交付")
        DETAILS_CHANGED = "details_changed", _("記載事項変更")
        LOST = "lost", _("紛失")
        ELIGIBILITY_ENDED = "eligibility_ended", _("資格喪失")
        RENEWED = "renewed", _("更新")
        # Set by the system only: the person was issued a new certificate.
        REPLACED = "replaced", _("再交付により無効")

    # The reasons a clerk chooses from when voiding by hand (each asks for a confirmation).
    STAFF_VOID_REASONS = (VoidReason.ERROR, VoidReason.DETAILS_CHANGED, VoidReason.LOST,
                          VoidReason.ELIGIBILITY_ENDED, VoidReason.RENEWED)

    serial = models.CharField("交付番号", max_length=20, unique=True)
    person = models.ForeignKey(Person, verbose_name=_("加入者"), on_delete=models.PROTECT, related_name="certificates")
    basis = models.CharField("交付の根拠", max_length=20, choices=Basis.choices)
    reissue_request = models.ForeignKey(
        "ReissueRequest", verbose_name=_("交付申請"), null=True, blank=True, on_delete=models.PROTECT, related_name="certificates"
    )
    batch = models.ForeignKey(
        "IssueBatch", verbose_name=_("交付バッチ"), null=True, blank=True, on_delete=models.PROTECT, related_name="certificates"
    )
    issued_on = models.DateField("交付年月日")
    valid_until = models.DateField("有効期限")
    delivery_route = models.CharField("送付方法", max_length=10, choices=DeliveryRoute.choices)
    # Kept for sorting print files; the printed employer is in the snapshot.
    employer = models.ForeignKey(
        Employer, verbose_name=_("事業所"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    snapshot = models.JSONField("印字内容", default=dict, editable=False)
    status = models.CharField("状態", max_length=10, choices=Status.choices, default=Status.QUEUED)
    # The single-certificate PDF, rendered on first download from the snapshot and kept,
    # so every later download or re-print is the same file byte for byte.
    pdf = models.FileField("PDF", upload_to="certificates/%Y/%m/", blank=True)
    render_error = models.CharField("作成エラー", max_length=500, blank=True)
    # The print file its sheet is printed in (a batch's, or the day's for certificates issued
    # one at a time); set when the file is planned, so no certificate is planned twice.
    print_file = models.ForeignKey("PrintFile", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="certificates", verbose_name="印刷用ファイル")

    queued_at = models.DateTimeField("交付日時")
    queued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("交付した職員"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rendered_at = models.DateTimeField("作成日時", null=True, blank=True)
    printed_at = models.DateTimeField("印刷日時", null=True, blank=True)
    printed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("印刷した職員"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    mailed_at = models.DateTimeField("発送日時", null=True, blank=True)
    mailed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("発送した職員"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    voided_at = models.DateTimeField("無効日時", null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("無効にした職員"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    void_reason = models.CharField("無効の理由", max_length=20, choices=VoidReason.choices, blank=True)

    class Meta:
        verbose_name = "資格確認書"
        verbose_name_plural = "資格確認書"
        constraints = [
            # R8: a person holds at most one valid certificate.
            models.UniqueConstraint(
                fields=["person"], condition=~Q(status="void"), name="one_valid_certificate_per_person"
            ),
        ]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["valid_until"])]
        permissions = [
            ("issue_certificate", "資格確認書を交付できる"),
            ("export_list", "職権交付の対象者一覧を出力できる"),
            ("download_pdf", "資格確認書のPDFをダウンロードできる"),
        ]

    def __str__(self) -> str:
        return f"資格確認書 {self.serial}"

    @property
    def audit_household(self):
        return self.person.household

    @property
    def is_valid(self) -> bool:
        return self.status != self.Status.VOID


class SerialCounter(models.Model):
    """The last serial number handed out; a row lock makes numbers unique."""

    name = models.CharField(_("名前"), max_length=20, unique=True)
    value = models.BigIntegerField(_("最後の番号"), default=0)

    class Meta:
        verbose_name = _("交付番号の採番")
        verbose_name_plural = _("交付番号の採番")

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"


class IssueBatch(models.Model):
    """A print batch started from the ex-officio list. Counts are refreshed from its items."""

    class Status(models.TextChoices):
        AWAITING = "awaiting", _("決裁待ち")
        RUNNING = "running", _("作成中")
        ASSEMBLING = "assembling", _("印刷用ファイル作成中")
        DONE = "done", _("完了")
        CANCELLED = "cancelled", _("取消（差し戻し）")

    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("開始した職員"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField("開始日時", auto_now_add=True)
    filter_description = models.CharField("対象の条件", max_length=500, blank=True)
    filter_query = models.CharField("条件（クエリ）", max_length=1000, blank=True)
    status = models.CharField("状態", max_length=12, choices=Status.choices, default=Status.RUNNING)
    total = models.PositiveIntegerField("対象人数", default=0)
    rendered_count = models.PositiveIntegerField("作成済み", default=0)
    failed_count = models.PositiveIntegerField("失敗", default=0)
    skipped_count = models.PositiveIntegerField("対象外", default=0)
    finished_at = models.DateTimeField("完了日時", null=True, blank=True)
    last_progress_at = models.DateTimeField("最終進捗", null=True, blank=True)

    class Meta:
        verbose_name = "交付バッチ"
        verbose_name_plural = "交付バッチ"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"交付バッチ #{self.pk}"

    @property
    def remaining(self) -> int:
        return max(self.total - self.rendered_count - self.failed_count - self.skipped_count, 0)

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * (self.total - self.remaining) / self.total)


class ExOfficioProposal(models.Model):
    """The month's routine: on the 1st a job proposes the ex-officio run of the people new on
    the list since the last batch (``selectors.new_since_last_batch``). Staff open the list
    with that filter, check it and start the batch; the proposal itself changes nothing."""

    created_at = models.DateTimeField("提案日時", auto_now_add=True)
    day = models.DateField("基準日")
    since_batch = models.ForeignKey(IssueBatch, verbose_name=_("前回のバッチ"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    total = models.PositiveIntegerField("対象人数", default=0)
    # {basis: count} in R6's order, every basis (0 included).
    per_basis = models.JSONField("交付の根拠ごとの人数", default=dict)

    class Meta:
        verbose_name = "職権交付の月次提案"
        verbose_name_plural = "職権交付の月次提案"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"職権交付の提案 {self.day:%Y-%m-%d}（{self.total}人）"


class BatchItem(models.Model):
    """One person of a batch: pending → issued (certificate made) → rendered; or failed / skipped.

    Workers claim items with a conditional UPDATE (``claim_token``, ``claimed_until``),
    so a chunk delivered twice, or resumed after a worker died, issues nobody twice.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("未処理")
        ISSUED = "issued", _("交付済み・PDF未作成")
        RENDERED = "rendered", _("作成済み")
        FAILED = "failed", _("失敗")
        SKIPPED = "skipped", _("対象外")

    batch = models.ForeignKey(IssueBatch, verbose_name=_("交付バッチ"), on_delete=models.CASCADE, related_name="items")
    person = models.ForeignKey(Person, verbose_name=_("加入者"), on_delete=models.PROTECT, related_name="+")
    basis = models.CharField(_("交付の根拠"), max_length=20, choices=Basis.choices)
    state = models.CharField(_("状態"), max_length=10, choices=State.choices, default=State.PENDING)
    certificate = models.OneToOneField(
        EligibilityCertificate, verbose_name=_("資格確認書"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="batch_item",
    )
    error = models.CharField(_("エラー"), max_length=500, blank=True)
    claim_token = models.CharField(_("処理中の印"), max_length=36, blank=True)
    claimed_until = models.DateTimeField(_("処理の期限"), null=True, blank=True)

    class Meta:
        verbose_name = "交付バッチの対象者"
        verbose_name_plural = "交付バッチの対象者"
        constraints = [models.UniqueConstraint(fields=["batch", "person"], name="batch_person_unique")]
        indexes = [models.Index(fields=["batch", "state"])]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.pk}: {self.state}"


class PrintFile(models.Model):
    """A print-ready PDF ordered by employer with a cover sheet per employer: either a
    batch's, or the day's file of one delivery route for certificates issued one at a time
    (approved requests, single issues), so nothing is downloaded one by one.

    Planned first (``plan``), then rendered by one task per file, in chunks of
    ``KENPO_PRINT_CHUNK_SHEETS`` sheets per WeasyPrint document so the pages share fonts.
    """

    batch = models.ForeignKey(IssueBatch, verbose_name=_("交付バッチ"), null=True, blank=True,
                              on_delete=models.CASCADE, related_name="print_files")
    day = models.DateField(_("作成日（バッチ外）"), null=True, blank=True)
    route = models.CharField(_("送付方法"), max_length=10, choices=DeliveryRoute.choices, blank=True)
    sequence = models.PositiveIntegerField("番号")
    # [{"title", "employer_name", "employer_id", "ids": [certificate ids in print order]}, ...]: one cover each.
    plan = models.JSONField(_("構成"), default=list, editable=False)
    # {certificate id: page number (1-based)} once rendered: which page is whose.
    page_of = models.JSONField(_("ページ対応"), default=dict, editable=False)
    pdf = models.FileField("PDF", upload_to="print/%Y/%m/", blank=True)  # empty until a worker rendered it
    pages = models.PositiveIntegerField("ページ数", default=0)
    certificate_count = models.PositiveIntegerField("枚数")
    description = models.CharField("内容", max_length=300)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    rendered_at = models.DateTimeField(_("作成完了"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("作成の試行回数"), default=0)
    error = models.CharField(_("作成エラー"), max_length=500, blank=True)

    class Meta:
        verbose_name = "印刷用ファイル"
        verbose_name_plural = "印刷用ファイル"
        ordering = ["batch", "day", "route", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "sequence"], name="print_file_sequence_unique"),
            models.UniqueConstraint(fields=["day", "route", "sequence"], condition=Q(batch__isnull=True),
                                    name="daily_print_file_sequence_unique"),
        ]

    def __str__(self) -> str:
        if self.batch_id:
            return f"印刷用ファイル {self.batch_id}-{self.sequence}"
        return f"印刷用ファイル {self.day:%Y-%m-%d}・{self.get_route_display()}・{self.sequence}"


class Reason(models.TextChoices):
    """R7: why a member asks for a 資格確認書. The first seven are accepted."""

    # Everyone without a usable マイナ保険証 may have one (R6 「当分の間」): a child or an
    # adult with no card (or a card not registered) who is not covered ex officio applies so.
    NO_CARD = "no_card", _("マイナンバーカードを持っていない、または保険証として利用登録していない")
    CARD_LOST = "card_lost", _("マイナンバーカードをなくした")
    CARD_RENEWING = "card_renewing", _("マイナンバーカードを更新中")
    ECERT_EXPIRED = "ecert_expired", _("電子証明書の有効期限が切れた")
    CARD_RETURNED = "card_returned", _("マイナンバーカードを返納した")
    NEEDS_HELPER = "needs_helper", _("介助者などの支援がないとマイナ保険証を使えない")
    CERTIFICATE_LOST = "certificate_lost", _("資格確認書をなくした・破損した")
    JUST_IN_CASE = "just_in_case", _("マイナ保険証はあるが、念のためほしい")
    NURSERY = "nursery", _("保育園で子どもを受診させるため")
    SCHOOL_TRIP = "school_trip", _("修学旅行など学校行事のため")


ACCEPTED_REASONS = (
    Reason.NO_CARD,
    Reason.CARD_LOST,
    Reason.CARD_RENEWING,
    Reason.ECERT_EXPIRED,
    Reason.CARD_RETURNED,
    Reason.NEEDS_HELPER,
    Reason.CERTIFICATE_LOST,
)
REFUSED_REASONS = (Reason.JUST_IN_CASE, Reason.NURSERY, Reason.SCHOOL_TRIP)


class ReissueRequest(models.Model):
    """A member's 資格確認書（再）交付申請 for themself or a household member."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("受付済み（審査待ち）")
        APPROVED = "approved", _("承認（作成中）")
        REJECTED = "rejected", _("お受けできませんでした")
        WITHDRAWN = "withdrawn", _("取り下げ")
        ISSUED = "issued", _("交付済み")

    ALLOWED = {
        Status.SUBMITTED: {Status.APPROVED, Status.REJECTED, Status.WITHDRAWN},
        Status.APPROVED: {Status.ISSUED},
        Status.REJECTED: set(),
        Status.WITHDRAWN: set(),
        Status.ISSUED: set(),
    }
    OPEN = (Status.SUBMITTED, Status.APPROVED)

    class RejectReason(models.TextChoices):
        HAS_USABLE_CARD = "has_usable_card", _("マイナ保険証をお使いいただけるため")
        NOT_ELIGIBLE = "not_eligible", _("資格がないため")
        ALREADY_HOLDS = "already_holds", _("有効な資格確認書をお持ちのため")
        INSUFFICIENT = "insufficient", _("申請の内容を確認できなかったため")
        OTHER = "other", _("その他（備考をご覧ください）")

    person = models.ForeignKey(
        Person, verbose_name=_("加入者"), on_delete=models.PROTECT, related_name="reissue_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申請したログイン"), null=True, on_delete=models.SET_NULL, related_name="reissue_requests"
    )
    reason = models.CharField("申請の理由", max_length=20, choices=[(r.value, r.label) for r in ACCEPTED_REASONS])
    noticed_on = models.DateField("日付（紛失に気づいた日など）", null=True, blank=True)
    details = FreeTextField("詳しい事情")
    # A paper application entered by a clerk on the member's behalf: the day the society
    # received it, and who entered it (``requested_by`` stays empty: no login asked).
    received_on = models.DateField("申請書の受付日（紙の申請）", null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="代理入力した職員",
    )
    # Filed by an employer contact (事業所担当者, R12: 施行規則47) for an employee or a dependent.
    via_employer = models.ForeignKey(
        Employer, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("経由した事業所"),
    )
    status = models.CharField("状態", max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    created_at = models.DateTimeField("申請日時", auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("審査した職員"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField("審査日時", null=True, blank=True)
    reject_reason = models.CharField("お受けできない理由", max_length=20, choices=RejectReason.choices, blank=True)
    review_note = FreeTextField("審査の備考")

    class Meta:
        verbose_name = "資格確認書の交付申請"
        verbose_name_plural = "資格確認書の交付申請"
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(status__in=["submitted", "approved"]), name="one_open_request_per_person"
            ),
        ]
        permissions = [("review_request", "資格確認書の交付申請を審査できる")]

    def __str__(self) -> str:
        return f"交付申請 #{self.pk}"

    @property
    def audit_household(self):
        return self.person.household

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def is_paper(self) -> bool:
        return self.received_on is not None


class ReissueRequestEvent(models.Model):
    """The history a member sees: each status a request took, when, and by whom (role only)."""

    request = models.ForeignKey(ReissueRequest, verbose_name=_("交付申請"), on_delete=models.CASCADE,
                                related_name="events")
    status = models.CharField(_("状態"), max_length=10, choices=ReissueRequest.Status.choices)
    at = models.DateTimeField(_("日時"), auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作した人"), null=True, blank=True,
                           on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(_("備考"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("交付申請の履歴")
        verbose_name_plural = _("交付申請の履歴")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.status}"


class ExOfficioCandidate(Person):
    """The ex-officio list (職権交付の対象者) as an admin changelist; rows come from
    ``selectors.ex_officio_candidates``."""

    class Meta:
        proxy = True
        verbose_name = "職権交付の対象者"
        verbose_name_plural = "職権交付の対象者一覧"
        default_permissions = ()


class Packet(models.Model):
    """事業所あて送付 (RULES.md R12): the certificates of one 事業所 in one print file, sent
    to it with a list (一覧表). Made when the file is rendered (``services.packets``)."""

    employer = models.ForeignKey(Employer, verbose_name=_("事業所"), on_delete=models.PROTECT, related_name="packets")
    # Empty for a packet of paper お知らせ (printed from the notices admin, not a print file).
    print_file = models.ForeignKey(PrintFile, verbose_name=_("印刷用ファイル"), on_delete=models.PROTECT,
                                   related_name="packets", null=True, blank=True)
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    # Last reminder e-mail to the 事業所's contacts about items still unconfirmed.
    reminded_at = models.DateTimeField(_("催促メール送信日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("事業所あて送付")
        verbose_name_plural = _("事業所あて送付")
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["print_file", "employer"], name="packet_per_file_employer")]

    def __str__(self) -> str:
        return f"送付 #{self.pk}（{self.employer.name}）"


class PacketItem(models.Model):
    """One item of a packet — a certificate, or a person's paper 資格情報のお知らせ (R10) —
    and what became of it at the 事業所."""

    class State(models.TextChoices):
        OUT = "out", _("未確認")
        HANDED = "handed", _("手渡し済み")
        RETURNED = "returned", _("返送（お渡しできず）")
        REPOSTED = "reposted", _("本人へ郵送に切り替え")

    class ReturnReason(models.TextChoices):
        LEFT = "left", _("退職済み")
        ABSENT = "absent", _("長期不在（休職・出向など）")
        UNKNOWN = "unknown", _("宛所不明（該当者がいない）")
        OTHER = "other", _("その他")

    packet = models.ForeignKey(Packet, verbose_name=_("事業所あて送付"), on_delete=models.CASCADE, related_name="items")
    certificate = models.OneToOneField(EligibilityCertificate, verbose_name=_("資格確認書"), on_delete=models.PROTECT,
                                       related_name="packet_item", null=True, blank=True)
    # A paper お知らせ: whose it is, and its list line as printed (記号・番号・枝番, names).
    notice_person = models.ForeignKey(Person, verbose_name=_("資格情報のお知らせ"), on_delete=models.PROTECT,
                                      related_name="notice_packet_items", null=True, blank=True)
    notice_snapshot = models.JSONField(_("お知らせの送付先の記載"), default=dict, blank=True, editable=False)
    state = models.CharField(_("状態"), max_length=10, choices=State.choices, default=State.OUT)
    return_reason = models.CharField(_("返送の理由"), max_length=10, choices=ReturnReason.choices, blank=True)
    recorded_at = models.DateTimeField(_("記録日時"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("記録したログイン"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("送付の明細")
        verbose_name_plural = _("送付の明細")
        indexes = [models.Index(fields=["packet", "state"])]
        constraints = [models.CheckConstraint(
            condition=Q(certificate__isnull=False, notice_person__isnull=True)
            | Q(certificate__isnull=True, notice_person__isnull=False), name="packet_item_certificate_or_notice")]

    def __str__(self) -> str:
        return f"{self.packet_id}/{self.certificate_id or 'notice'}: {self.state}"

    @property
    def person(self) -> Person:
        return self.certificate.person if self.certificate_id else self.notice_person

    @property
    def audit_household(self):
        return self.person.household


class Collection(models.Model):
    """回収 (R12): what the 事業所 recorded of a leaver's voided 資格確認書. A certificate voided
    for 資格喪失 that went out via the 事業所 and has no row here is still to be collected."""

    class Outcome(models.TextChoices):
        COLLECTED = "collected", _("回収済み")
        LOST = "lost", _("回収できず（紛失）")

    certificate = models.OneToOneField(EligibilityCertificate, verbose_name=_("資格確認書"), on_delete=models.PROTECT,
                                       related_name="collection")
    outcome = models.CharField(_("結果"), max_length=10, choices=Outcome.choices)
    recorded_at = models.DateTimeField(_("記録日時"), auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("記録したログイン"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("資格確認書の回収")
        verbose_name_plural = _("資格確認書の回収")

    def __str__(self) -> str:
        return f"{self.certificate_id}: {self.outcome}"

    @property
    def audit_household(self):
        return self.certificate.person.household
