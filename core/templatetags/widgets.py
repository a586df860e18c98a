"""`{{ choice|input_tag }}`: a checkbox or radio choice's <input>, as `{{ choice.tag }}` writes it.

`choice.tag` renders Django's widget templates (input_option.html, input.html, attrs.html) for
each choice: the client list's filters have about fifty, and that took a fifth of the page's
time. The same markup from Python (the value as stringformat:'s' gives it, the attributes as
attrs.html writes them: a True one by its name alone, a False one left out).
"""

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.filter
def input_tag(choice) -> str:
    data = choice.data
    value = "" if data["value"] is None else format_html(' value="{}"', str(data["value"]))
    return format_html('<input type="{}" name="{}"{}{}>', data["type"], data["name"], value, _attrs(data["attrs"]))


def _attrs(attrs: dict) -> str:
    """attrs.html: in their order, a True one by its name alone, a False one left out."""
    return format_html_join("", "{}", (
        (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, str(value)),)
        for name, value in attrs.items() if value is not False
    ))
