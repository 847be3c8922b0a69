"""``{% cover_of person as cover %}``: on the member's request pages, what already covers a
person — the 資格確認書 they hold, R6's ex-officio basis — so a person the society will
send one to is told so instead of being offered a request, and the refused reasons
offer only alternatives that person can have."""

from django import template

from eligibility import selectors
from eligibility.rules import Status

from ..proofs import proofs_for
from ..situation import status_of

register = template.Library()


@register.simple_tag
def cover_of(person) -> dict:
    today = selectors.today()
    status = status_of(person, today=today)
    proof = proofs_for([person], today=today, statuses={person.pk: status})[person.pk]
    return {
        "status": status,
        "proof": proof,
        "ex_officio": proof.basis is not None and proof.certificate is None,
        # マイナポータル's eligibility PDF needs a card that works as a マイナ保険証.
        "has_myna_insurance": status in (Status.ACTIVE, Status.RENEW_NOW, Status.GRACE),
    }
