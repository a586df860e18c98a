"""`{{ client|tel_href }}` and `{{ client|whatsapp_url }}`: the client's phone as links (clients/phones.py)."""

from django import template

from clients import phones

register = template.Library()


@register.filter
def tel_href(client) -> str:
    return phones.tel_href(client.phone, client.country) if client.phone else ""


@register.filter
def whatsapp_url(client) -> str:
    return (phones.whatsapp_url(client.phone, client.country) or "") if client.phone else ""
