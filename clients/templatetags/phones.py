"""`{{ client|tel_href }}`, `{{ client|whatsapp_url }}` and `{{ client|phone_display }}`: the client's phone as
links and as its country writes it (clients/phones.py)."""

from django import template

from clients import phones

register = template.Library()


@register.filter
def tel_href(client) -> str:
    return phones.tel_href(client.phone, client.country) if client.phone else ""


@register.filter
def whatsapp_url(client) -> str:
    return (phones.whatsapp_url(client.phone, client.country) or "") if client.phone else ""


@register.filter
def phone_display(client) -> str:
    return phones.display(client.phone, client.country) if client.phone else ""
