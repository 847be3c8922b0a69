"""R5's statuses in words: the one table. Staff read the short words (the admin lists and
their filters, the review, the CSV exports, the staff dashboard); members read whole
sentences on their dashboard."""

from django.utils.translation import gettext_lazy as _

from .rules import Status

# status: (the staff's words, the member's words)
_WORDS = {
    Status.NO_CARD: (_("マイナンバーカードなし"), _("マイナンバーカードがありません")),
    Status.NOT_REGISTERED: (_("保険証利用登録なし"), _("保険証の利用登録がまだです")),
    Status.ACTIVE: (_("利用中"), _("マイナ保険証が使えます")),
    Status.RENEW_NOW: (_("更新の時期"), _("更新の時期です")),
    Status.GRACE: (_("期限切れ（猶予期間中）"), _("有効期限切れ（猶予期間中）")),
    Status.LAPSED: (_("利用登録の解除"), _("利用登録が取り消されました")),
    # R5: nobody has said — never 「カードがない」.
    Status.UNKNOWN: (_("不明（情報なし）"), _("まだ分かりません")),
}
STATUS_LABELS = {status: staff for status, (staff, _member) in _WORDS.items()}
MEMBER_STATUS_LABELS = {status: member for status, (_staff, member) in _WORDS.items()}
# A person the member's login still shows who is no longer insured here.
NOT_ELIGIBLE_LABEL = _("この健康保険組合の資格がありません")
