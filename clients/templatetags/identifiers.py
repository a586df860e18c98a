"""`{{ client|tax_id_display }}`: the client's tax id as its country writes it (clients/identifiers.py)."""

from django import template

from clients import identifiers

register = template.Library()


@register.filter
def tax_id_display(client) -> str:
    return identifiers.tax_id_display(client.tax_id, client.country) if client.tax_id else ""
