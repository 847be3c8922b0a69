"""The official sites members are sent to, in one place (the flyer's 「詳しくはこちら」)."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

OFFICIAL = {
    "myna_portal": ("https://myna.go.jp/", _("マイナポータル")),
    "card_site": ("https://www.kojinbango-card.go.jp/", _("マイナンバーカード総合サイト")),
    # Renewal happens at the municipal office; many take bookings online. A society may
    # point this at its members' main municipality (KENPO_RENEWAL_BOOKING_URL).
    "renewal_booking": (getattr(settings, "KENPO_RENEWAL_BOOKING_URL", "") or "https://www.kojinbango-card.go.jp/",
                        _("更新の窓口と予約（マイナンバーカード総合サイト・お住まいの市区町村）")),
}
