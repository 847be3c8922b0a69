"""``{% external "myna_portal" %}``: a link to an official site, marked as leaving the portal."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from ..links import OFFICIAL

register = template.Library()


@register.simple_tag
def external(key: str, text: str = "") -> str:
    url, label = OFFICIAL[key]
    return format_html(
        '<a href="{}" rel="noopener noreferrer external" target="_blank" class="external">{}'
        '<span aria-hidden="true" class="external-icon">↗</span><span class="visually-hidden">{}</span></a>',
        url, text or label, _("（外部サイト・新しいタブで開きます）"),
    )
