"""django-auditlog's middleware with our client address (core.network.client_ip), and the
record of a login reading its own recovery codes.

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


RECOVERY_CODE_READS = {"mfa_view_recovery_codes": ("view", "表示"), "mfa_download_recovery_codes": ("download", "ダウンロード")}


class RecoveryCodesReadMiddleware:
    """allauth sends no signal when a login shows or downloads its recovery codes: the
    page shown is recorded here (issue 24, 4)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        read = RECOVERY_CODE_READS.get(match.url_name) if match else None
        if read and request.method == "GET" and response.status_code == 200 and request.user.is_authenticated:
            from .services import record

            action, verb = read
            record(action=action, request=request, summary=f"多要素認証：リカバリーコードを{verb}",
                   details={"mfa": "recovery_codes"})
        return response
