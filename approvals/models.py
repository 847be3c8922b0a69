"""Four eyes (決裁): an act one staff member entered waits for a second one to approve it.

One model for every kind of act: the app that owns the act asks for an approval
(``services.approval_request``) and leaves the act waiting; the staff page decides it
(``services.approval_decide``) and hands the decision back to the owning app. Which
acts need it is the society's policy (``KENPO_FOUR_EYES``)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Approval(models.Model):
    """A request for a second staff member's approval (決裁) of one act."""

    class Kind(models.TextChoices):
        IMPORT = "import", _("大量の変更を含む取込")
        VOID = "void", _("資格確認書の無効化")
        BATCH = "batch", _("交付バッチ")

    class Status(models.TextChoices):
        PENDING = "pending", _("決裁待ち")
        APPROVED = "approved", _("承認")
        REJECTED = "rejected", _("差し戻し")

    kind = models.CharField("種類", max_length=16, choices=Kind.choices)
    status = models.CharField("状態", max_length=16, choices=Status.choices, default=Status.PENDING)
    # The act waiting: an import run's or a batch's id (null for a void: its certificates are in payload).
    target_id = models.PositiveBigIntegerField("対象の番号", null=True, blank=True)
    # What the act needs once approved (a void: {"ids": [...], "reason": "..."}).
    payload = models.JSONField("内容", default=dict, blank=True)
    summary = models.CharField("概要", max_length=300)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="依頼した職員", null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField("依頼日時", auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="決裁した職員", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField("決裁日時", null=True, blank=True)
    note = models.CharField("決裁のメモ", max_length=300, blank=True)

    class Meta:
        verbose_name = "決裁"
        verbose_name_plural = "決裁"
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["status", "requested_at"])]
        constraints = [
            # One open approval per act.
            models.UniqueConstraint(fields=["kind", "target_id"], condition=Q(status="pending"),
                                    name="approval_one_pending_per_act"),
        ]

    def __str__(self) -> str:
        return f"決裁 #{self.pk}（{self.get_kind_display()}・{self.get_status_display()}）"
