"""A figure of the dashboards: clients and their 12-month revenue (shared by the dashboard and the
saved segments, so that neither imports the other's module for it)."""

from dataclasses import dataclass
from decimal import Decimal


@dataclass
class Cell:
    clients: int = 0
    revenue: Decimal = Decimal("0")

    def add(self, clients: int, revenue: Decimal) -> None:
        self.clients += clients
        self.revenue += revenue
