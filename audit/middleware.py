"""django-auditlog's middleware with our client address (core.network.client_ip).

auditlog's own believes any X-Forwarded-For header, which a client can forge.
"""

from auditlog.middleware import AuditlogMiddleware as BaseAuditlogMiddleware

from core.network import client_ip


class AuditlogMiddleware(BaseAuditlogMiddleware):
    @staticmethod
    def _get_remote_addr(request):
        return client_ip(request)

    @staticmethod
    def _get_remote_port(request):
        return None
