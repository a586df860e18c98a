"""The engine's rules (segmentation/engine.py docstring) in plain Python, for the tests only."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

from clients.models import Client, Purchase
from segmentation.engine import RFM_SEGMENTS
from segmentation.rules import Thresholds, status_for

COMPUTED = [
    "status", "first_purchase_date", "last_purchase_date", "purchase_count", "total_spent", "spend_12m",
    "average_basket", "volume_tier", "frequency_class", "r_score", "f_score", "m_score", "rfm_segment",
]


def ntile(keys: dict[int, tuple], tiles: int = 5) -> dict[int, int]:
    """SQL NTILE(tiles) OVER (ORDER BY key): the first n % tiles groups get one row more."""
    ordered = sorted(keys, key=lambda client_id: keys[client_id])
    size, extra = divmod(len(ordered), tiles)
    scores, position = {}, 0
    for tile in range(1, tiles + 1):
        count = size + (1 if tile <= extra else 0)
        for client_id in ordered[position:position + count]:
            scores[client_id] = tile
        position += count
    return scores


def expected_values(as_of: dt.date, thresholds: Thresholds | None = None) -> dict[int, dict]:
    thresholds = thresholds or Thresholds()
    rows: dict[int, dict] = {}
    purchases: dict[int, list[Purchase]] = {}
    for purchase in Purchase.objects.filter(date__lte=as_of):
        purchases.setdefault(purchase.client_id, []).append(purchase)
    for client in Client.objects.all():
        mine = purchases.get(client.pk, [])
        dates = sorted({p.date for p in mine})
        total = sum((p.amount for p in mine), Decimal("0"))
        row = {
            "first_purchase_date": dates[0] if dates else None,
            "last_purchase_date": dates[-1] if dates else None,
            "purchase_count": len(mine),
            "total_spent": total,
            "spend_12m": sum((p.amount for p in mine if p.date > as_of - dt.timedelta(days=365)), Decimal("0")),
            "average_basket": (total / len(mine)).quantize(Decimal("0.01"), ROUND_HALF_UP) if mine else Decimal("0"),
        }
        row["status"] = status_for(
            as_of=as_of, first_purchase=row["first_purchase_date"], last_purchase=row["last_purchase_date"],
            closed_at=client.closed_at, thresholds=thresholds,
        )
        gaps = [(later - earlier).days for earlier, later in zip(dates, dates[1:], strict=False)]
        if not mine:
            row["frequency_class"] = ""
        elif not gaps or median(gaps) > thresholds.habitual_max_days:
            row["frequency_class"] = "occasional"
        else:
            row["frequency_class"] = "frequent" if median(gaps) <= thresholds.frequent_max_days else "habitual"
        rows[client.pk] = row
    spenders = [row["spend_12m"] for row in rows.values() if row["spend_12m"] > 0]
    mean = sum(spenders) / len(spenders) if spenders else None
    for row in rows.values():
        if row["spend_12m"] == 0:
            row["volume_tier"] = ""
        else:
            ratio = row["spend_12m"] / mean
            row["volume_tier"] = (
                "very_high" if ratio >= thresholds.tier_very_high else "high" if ratio >= thresholds.tier_high
                else "medium" if ratio >= thresholds.tier_medium else "low"
            )
    buyers = [pk for pk, row in rows.items() if row["purchase_count"]]
    r = ntile({pk: (rows[pk]["last_purchase_date"], pk) for pk in buyers})
    f = ntile({pk: (rows[pk]["purchase_count"], pk) for pk in buyers})
    m = ntile({pk: (rows[pk]["total_spent"], pk) for pk in buyers})
    for pk, row in rows.items():
        row["r_score"], row["f_score"], row["m_score"] = r.get(pk), f.get(pk), m.get(pk)
        row["rfm_segment"] = RFM_SEGMENTS[(r[pk], f[pk])] if pk in r else ""
    return rows


def stored_values() -> dict[int, dict]:
    return {row.pop("id"): row for row in Client.objects.values("id", *COMPUTED)}
