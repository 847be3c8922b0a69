"""資格情報のお知らせ (R10) given electronically: what was last announced for each person,
and who asked for a paper one."""

from django.db import models

from eligibility.models import Person


class NoticeRecord(models.Model):
    """One person's お知らせ: the digest of its printed items when the member was last told
    a new one is available, and the paper copy they asked for (printed by staff)."""

    person = models.OneToOneField(Person, verbose_name="加入者", on_delete=models.CASCADE, primary_key=True,
                                  related_name="notice_record")
    items_digest = models.CharField("記載事項のダイジェスト", max_length=64, blank=True)
    available_since = models.DateTimeField("このお知らせの作成日時", null=True, blank=True)
    notified_at = models.DateTimeField("メールでお知らせした日時", null=True, blank=True)
    paper_requested = models.BooleanField("紙での交付を希望", default=False)
    paper_printed_at = models.DateTimeField("紙で印刷した日時", null=True, blank=True)

    class Meta:
        verbose_name = "資格情報のお知らせ"
        verbose_name_plural = "資格情報のお知らせ"
        indexes = [models.Index(fields=["paper_requested", "paper_printed_at"])]

    def __str__(self) -> str:
        return f"{self.person}の資格情報のお知らせ"

    @property
    def audit_household(self):
        return self.person.household
