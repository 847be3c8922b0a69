"""The Jinja2 environment of the few templates rendered by Jinja2 (``<app>/jinja2/``): the
member dashboard's person cards, rendered once per person for many members each opening
the page once (issue 26: a third of the Django engine's time for the same markup).

Texts are gettext calls, ``{{ _("…") }}``, which ``bin/messages`` (makemessages) extracts
like any template's; every value is escaped (autoescape, as in Django templates).
"""

from django.utils.translation import gettext
from jinja2 import Environment


def environment(**options) -> Environment:
    options.pop("autoescape", None)  # Django's backend sets it True; never anything else here
    env = Environment(autoescape=True, **options)
    env.globals["_"] = gettext
    return env
