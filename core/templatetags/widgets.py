"""`{{ choice|input_tag }}`: a checkbox or radio choice's <input>, as `{{ choice.tag }}` writes it.

`choice.tag` renders Django's widget templates (input_option.html, input.html, attrs.html) for
each choice: the client list's filters have about fifty, and that took a fifth of the page's
time. The same markup from Python (core.renderers.input_html).
"""

from django import template

from core.renderers import input_html

register = template.Library()


@register.filter
def input_tag(choice) -> str:
    return input_html(choice.data)
