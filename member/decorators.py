"""The one gate of the member's pages."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest
from django.shortcuts import redirect

from eligibility import selectors


def member_required(view):
    """Logged in and linked to a person (``request.member_link``); an unlinked login is
    sent to the link page, where it can link itself."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        link = selectors.member_link_for(request.user)
        if link is None:
            return redirect("eligibility:link")
        request.member_link = link
        return view(request, *args, **kwargs)

    return wrapper
