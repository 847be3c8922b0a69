"""The proof that a session passed the second factor, for every gate that demands it (the
staff gate, ``staff.access``; the employer contacts' gate, ``employer.access``).

allauth records each authentication step in the session; an "mfa" record for this user
is the proof that this session passed the second factor.
"""

from allauth.account.authentication import get_authentication_records
from django.http import HttpRequest


def session_used_mfa(request: HttpRequest, user) -> bool:
    """True when this session's login included an MFA step by ``user``."""
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, user))
