from django.conf import settings
from django.db import models


class MemberLanguage(models.Model):
    """The language a login last used the portal in: the site's e-mails to it are written in it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="+", verbose_name="ユーザー")
    language = models.CharField("言語", max_length=8)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        verbose_name = "メールの言語"
        verbose_name_plural = "メールの言語"

    def __str__(self) -> str:
        return self.language
