"""One row per reminder: (person, subject, expiry date, stage), created by the
daily scan and sent by a task, exactly once, from this row's state."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from eligibility.models import Household, Person

from .stages import Stage, Subject, key_dates, what_expires


class Reminder(models.Model):
    class Subject(models.TextChoices):
        MY_NUMBER = Subject.MY_NUMBER.value, _("マイナ保険証（電子証明書・カード）")
        CERTIFICATE = Subject.CERTIFICATE.value, _("資格確認書")

    class Stage(models.TextChoices):
        RENEWAL_OPEN = Stage.RENEWAL_OPEN.value, _("更新できる期間に入りました")
        EXPIRED = Stage.EXPIRED.value, _("有効期限が過ぎました")
        GRACE_ENDING = Stage.GRACE_ENDING.value, _("猶予期間の終了が近づいています")
        LAPSED = Stage.LAPSED.value, _("利用登録が解除されました")
        CERTIFICATE_ENDING = Stage.CERTIFICATE_ENDING.value, _("資格確認書の有効期限が近づいています")

    class Status(models.TextChoices):
        """pending → sending (claimed) → sent; on SMTP errors back to pending, then failed.

        ``skipped``: nothing to e-mail (opted out, no login that may see the row, or the
        expiry changed before sending); the dashboard notice still shows. ``sent`` only
        when every login that may see the row has it in ``delivered_to``.
        """

        PENDING = "pending", _("送信待ち")
        SENDING = "sending", _("送信中")
        SENT = "sent", _("送信済み")
        FAILED = "failed", _("送信失敗")
        SKIPPED = "skipped", _("メール不要")
        # The SMTP server may have kept the message (no reply after the data): never
        # re-sent automatically; staff may re-send it with the same Message-ID.
        UNCERTAIN = "uncertain", _("送信結果不明")

    # No database-level foreign keys: the scan inserts rows for persons it has just
    # joined, and checking 100k keys at commit (each taking a KEY SHARE lock on the
    # person and household rows) cost ~7 s of a 9 s first-ever run at 1M persons.
    # Persons are never deleted (PROTECT elsewhere; eligibility ends by date), and
    # Django still cascades deletes.
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="reminders", verbose_name="加入者",
                               db_constraint=False)
    # Denormalised from person: sending claims and bundles by household.
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="+", verbose_name="世帯",
                                  db_constraint=False)
    subject = models.CharField("対象", max_length=16, choices=Subject.choices)
    stage = models.CharField("段階", max_length=20, choices=Stage.choices)
    # The effective expiry (min of e-certificate and card), or the 資格確認書's valid-until.
    expires_on = models.DateField("有効期限")
    # The day of the scan that created the row (the day it became due).
    due_on = models.DateField("お知らせ日")
    created_at = models.DateTimeField("作成日時", db_default=Now())

    status = models.CharField("送信状況", max_length=12, choices=Status.choices, db_default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField("送信試行回数", db_default=0)
    next_attempt_at = models.DateTimeField("次の送信予定", db_default=Now())
    enqueued_at = models.DateTimeField("キュー投入日時", null=True, blank=True)
    claim_token = models.UUIDField("送信処理ID", null=True, blank=True)
    claimed_at = models.DateTimeField("送信開始日時", null=True, blank=True)
    sent_at = models.DateTimeField("送信日時", null=True, blank=True)
    # User ids (",3,,7,") whose e-mail listing this row the SMTP server accepted; ",?7,":
    # the server may have accepted it (no reply after the data), not re-sent.
    delivered_to = models.CharField("送信先（ユーザーID）", max_length=200, blank=True, db_default="")
    message_id = models.CharField("Message-ID", max_length=200, blank=True, db_default="")
    last_error = models.TextField("最後のエラー", blank=True, db_default="", editable=False)  # system-written

    dismissed_at = models.DateTimeField("お知らせを閉じた日時", null=True, blank=True)

    class Meta:
        verbose_name = "期限のお知らせ"
        verbose_name_plural = "期限のお知らせ"
        constraints = [
            models.UniqueConstraint(
                fields=["person", "subject", "expires_on", "stage"], name="reminder_once_per_stage"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="reminder_claimable"),
            models.Index(fields=["household", "status"], name="reminder_household_status"),
            models.Index(fields=["due_on"], name="reminder_due_on"),
            # Only rows being sent carry a token: a tiny index that every mark uses.
            models.Index(fields=["claim_token"], name="reminder_in_flight", condition=Q(claim_token__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}（{self.due_on}）"

    @property
    def dates(self) -> dict:
        """expires_on, renewal_opens, grace_ends of this row's expiry (from the rules)."""
        return key_dates(self.expires_on)

    @property
    def expiring(self) -> str:
        """What ends on ``expires_on``: "ecert" (電子証明書) or "card" (マイナンバーカード); "" for a 資格確認書."""
        card = getattr(self.person, "card", None) if self.subject == Subject.MY_NUMBER else None
        if card is None:
            return ""
        return what_expires(ecert_expires_on=card.ecert_expires_on, card_expires_on=card.card_expires_on)

    @property
    def audit_household(self) -> Household:
        return self.household
