"""The project's form renderer (settings.FORM_RENDERER): Django's, with its plainest widget
templates written from Python.

Every `{{ field }}` of a form goes through the template engine: input.html, attrs.html and, for a
select, select_option.html once per option. The client list's filter panel renders thirteen such
widgets on every page, a fifth of the page's time at a million clients. The markup here is the
same as those templates give (core/tests/test_renderers.py compares them widget by widget); every
other template (checkbox groups, text areas, a widget with its own option template) is still
rendered by Django's.
"""

from django.forms.renderers import DjangoTemplates
from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

_INPUTS = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "input", "checkbox", "color", "date", "datetime", "email", "file", "hidden", "number", "password",
        "search", "tel", "text", "time", "url",
    )
)
_SELECT = "django/forms/widgets/select.html"
_OPTION = "django/forms/widgets/select_option.html"
_MULTIWIDGET = "django/forms/widgets/multiwidget.html"


def attrs_html(attrs: dict) -> str:
    """attrs.html: in their order, a True one by its name alone, a False one left out."""
    return format_html_join("", "{}", (
        (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, _value(value)),)
        for name, value in attrs.items() if value is not False
    ))


def _value(value) -> str:
    """`{{ widget.value|stringformat:'s' }}`."""
    return str(value)


def _shown(value):
    """`{{ value }}`: a number or a date in the active language's format (a text as it is)."""
    return formats.localize(template_localtime(value))


def input_html(widget: dict) -> str:
    """input.html."""
    value = "" if widget["value"] is None else format_html(' value="{}"', _value(widget["value"]))
    return format_html('<input type="{}" name="{}"{}{}>', widget["type"], widget["name"], value, attrs_html(widget["attrs"]))


def _option_html(option: dict) -> str:
    """select_option.html."""
    return format_html(
        '<option value="{}"{}>{}</option>', _value(option["value"]), attrs_html(option["attrs"]), _shown(option["label"]),
    )


def select_html(widget: dict) -> str:
    """select.html: its options, each group's in an <optgroup>, one per line as the template writes them."""
    parts = []
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(format_html('\n  <optgroup label="{}">', _shown(group_name)))
        # The included option template ends with a newline, which the select keeps.
        parts.extend(format_html("\n  {}\n", _option_html(option)) for option in options)
        if group_name:
            parts.append(mark_safe("\n  </optgroup>"))
    return format_html(
        '<select name="{}"{}>{}\n</select>', widget["name"], attrs_html(widget["attrs"]),
        format_html_join("", "{}", ((part,) for part in parts)),
    )


class FormRenderer(DjangoTemplates):
    """Inputs, selects and multi-widgets made of them from Python; the rest through the templates."""

    def render(self, template_name, context, request=None):
        widget = context.get("widget") if isinstance(context, dict) else None
        if widget is not None:
            if template_name in _INPUTS:
                return input_html(widget)
            if template_name == _SELECT and all(
                option["template_name"] == _OPTION for _name, options, _index in widget["optgroups"] for option in options
            ):
                return select_html(widget)
            if template_name == _MULTIWIDGET and all(sub["template_name"] in _INPUTS for sub in widget["subwidgets"]):
                # {% spaceless %} over inputs side by side: nothing between them to remove.
                return format_html_join("", "{}", ((input_html(sub),) for sub in widget["subwidgets"]))
        return super().render(template_name, context, request)
