import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kenpo_portal.settings")
application = get_wsgi_application()

from core.secrets import refuse_weak_secrets  # noqa: E402 (after Django is set up)

refuse_weak_secrets()  # a published placeholder or a short key: the server does not start
