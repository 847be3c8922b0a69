from django.apps import AppConfig


class MemberConfig(AppConfig):
    """The member's door (加入者のページ): every page a member opens, over the domain apps."""

    name = "member"
    verbose_name = "加入者のページ"
