"""The staff dashboard's expiry chart: bar geometry for a server-rendered SVG."""

from dataclasses import dataclass
from datetime import date

CHART_WIDTH, CHART_HEIGHT = 760, 280
PLOT_LEFT, PLOT_TOP, PLOT_BOTTOM = 56, 16, 236


@dataclass
class MonthExpiries:
    """The e-certificates (電子証明書) and cards expiring in one month, and their lists."""

    month: date
    ecert: int = 0
    card: int = 0
    ecert_url: str | None = None
    card_url: str | None = None


def _nice_ceiling(value: int) -> int:
    if value <= 4:
        return 4
    magnitude = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = int(step * magnitude)
        if top >= value and top % 4 == 0:
            return top
    return ((value + 3) // 4) * 4


def chart(months: list[MonthExpiries]) -> dict:
    """Bar geometry for the expiry chart: two bars a month, four grid lines."""
    top = _nice_ceiling(max([m.ecert for m in months] + [m.card for m in months] + [0]))
    plot_height = PLOT_BOTTOM - PLOT_TOP
    slot = (CHART_WIDTH - PLOT_LEFT - 8) / max(len(months), 1)
    bar = slot * 0.38

    def height(n: int) -> float:
        return round(plot_height * n / top, 1)

    bars = []
    for i, m in enumerate(months):
        x = PLOT_LEFT + i * slot + slot * 0.1
        bars.append({
            "month": m, "label_x": round(x + bar, 1), "year_label": i == 0 or m.month.month == 1,
            "ecert": {"x": round(x, 1), "y": round(PLOT_BOTTOM - height(m.ecert), 1), "h": height(m.ecert),
                      "n": m.ecert, "url": m.ecert_url},
            "card": {"x": round(x + bar, 1), "y": round(PLOT_BOTTOM - height(m.card), 1), "h": height(m.card),
                     "n": m.card, "url": m.card_url},
        })
    grid = [{"value": top * k // 4, "y": round(PLOT_BOTTOM - plot_height * k / 4, 1)} for k in range(5)]
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "left": PLOT_LEFT, "right": CHART_WIDTH - 8,
            "bottom": PLOT_BOTTOM, "bar": round(bar, 1), "bars": bars, "grid": grid}
