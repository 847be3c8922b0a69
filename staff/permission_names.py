"""Django names the default permissions in English when it creates them ("Can add
group"), and the admin shows those stored names on every user and group page.
After each ``migrate`` they are renamed in Japanese from the model's name."""

from django.utils import translation

ACTIONS = {"add": "追加", "change": "変更", "delete": "削除", "view": "閲覧"}


def japanese_name(action: str, verbose_name: str) -> str:
    """「グループを追加できる」 for ("add", "グループ")."""
    return f"{verbose_name}を{ACTIONS[action]}できる"[:255]


def rename_default_permissions(*, using: str = "default") -> int:
    """Give every default permission (add/change/delete/view) of an installed model its
    Japanese name; custom permissions keep the Japanese names their models give them."""
    from django.apps import apps
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    renamed = 0
    with translation.override("ja"):
        for model in apps.get_models():
            content_type = ContentType.objects.db_manager(using).get_for_model(model, for_concrete_model=False)
            for action in model._meta.default_permissions:
                if action not in ACTIONS:
                    continue
                name = japanese_name(action, str(model._meta.verbose_name))
                renamed += Permission.objects.using(using).filter(
                    content_type=content_type, codename=f"{action}_{model._meta.model_name}"
                ).exclude(name=name).update(name=name)
    return renamed
