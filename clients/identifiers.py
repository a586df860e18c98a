"""Tax ids checked by the client's country (python-stdnum), and countries read from what people write.

A tax id is stored in its normal form: stdnum's compact form of the national number (letters and
digits, upper case, no separators and no country prefix: 'ES B-58378431' and 'b58378431' are both
'B58378431'), so that `text.tax_key` of the stored value is the value itself and an import's
match key cannot differ from a typed one by a dash or a prefix. It is shown as that country's
people write it (`tax_id_display`: '390.533.447-05' in Brazil, 'FR40303265045' in France).

Countries with no checker here keep what was typed, trimmed and upper case: a tax id we cannot
check is not refused.
"""

from __future__ import annotations

import functools
import re
from types import ModuleType

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from stdnum.ar import cuit
from stdnum.br import cnpj, cpf
from stdnum.cl import rut
from stdnum.co import nit
from stdnum.es import nif as es_nif
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as NumberError
from stdnum.mx import rfc
from stdnum.pe import ruc
from stdnum.pt import nif as pt_nif
from stdnum.util import get_cc_module

from clients.text import fold

# Each country's checkers, tried in order (the first that accepts the number gives its form).
_NATIONAL: dict[str, tuple[ModuleType, ...]] = {
    "ES": (es_nif,),  # NIF of a Spaniard (DNI), NIE of a foreigner, CIF of a company: es.nif takes all three
    "PT": (pt_nif,),
    "BR": (cpf, cnpj),
    "CL": (rut,),
    "MX": (rfc,),  # check digit not verified: the SAT has issued RFCs whose check digit is "wrong"
    "AR": (cuit,),
    "CO": (nit,),
    "PE": (ruc,),
}
# The rest of the European Union: the VAT number, with or without its prefix (Greece writes EL).
EU_VAT_PREFIX = {
    code.upper(): ("EL" if code == "gr" else code.upper())
    for code in eu_vat.MEMBER_STATES - {"es", "pt", "xi"}
}
_SEPARATORS = re.compile(r"[\s.,\-_/]+")
# How people write them, where stdnum's compact form is not it.
_DISPLAYED: dict[str, tuple[ModuleType, ...]] = {"BR": (cpf, cnpj), "CL": (rut,), "AR": (cuit,), "CO": (nit,)}

_MESSAGES = {
    "ES": _("This is not a valid Spanish NIF, NIE or CIF: check its letters and digits."),
    "PT": _("This is not a valid Portuguese NIF: check its digits."),
    "BR": _("This is not a valid Brazilian CPF or CNPJ: check its digits."),
    "CL": _("This is not a valid Chilean RUT: check its digits and the check digit."),
    "MX": _("This is not a valid Mexican RFC: check its letters, the date and the last characters."),
    "AR": _("This is not a valid Argentinian CUIT: check its digits."),
    "CO": _("This is not a valid Colombian NIT: check its digits and the check digit."),
    "PE": _("This is not a valid Peruvian RUC: check its digits."),
}
_EU_MESSAGE = _("This is not a valid VAT number of %(country)s: check its letters and digits.")


def has_checker(country: str) -> bool:
    country = str(country or "").upper()
    return country in _NATIONAL or country in EU_VAT_PREFIX


def tax_id_normal(value: str, country: str) -> str | None:
    """The normal form of a tax id of `country`, '' for an empty one, or None when it is not valid.

    A country without a checker: the value trimmed and upper case.
    """
    value = (value or "").strip()
    if not value:
        return ""
    country = str(country or "").upper()
    if country in EU_VAT_PREFIX:
        return _eu_vat_normal(value, country)
    checkers = _NATIONAL.get(country)
    if checkers is None:
        return value.upper()
    value = _SEPARATORS.sub("", value)  # '12.345.678-Z': not every module drops every separator
    for module in checkers:
        try:
            return module.validate(value)
        except NumberError:
            continue
    return None


def _eu_vat_normal(value: str, country: str) -> str | None:
    module = get_cc_module(country.lower(), "vat")
    prefix = EU_VAT_PREFIX[country]
    number = _SEPARATORS.sub("", value).upper()
    for written in (prefix, country):
        if number.startswith(written):
            number = number[len(written):]
            break
    try:
        number = module.validate(number)
    except NumberError:
        return None
    return number[len(prefix):] if number.startswith(prefix) else number


def tax_id_clean(value: str, country: str) -> str:
    """The normal form of a tax id, or a ValidationError naming the country's kinds of id."""
    normal = tax_id_normal(value, country)
    if normal is None:
        raise ValidationError(tax_id_error(country), code="invalid_tax_id")
    return normal


def tax_id_error(country: str) -> str:
    """Why a tax id of `country` was refused, in the active language."""
    country = str(country or "").upper()
    if country in _MESSAGES:
        return str(_MESSAGES[country])
    return str(_EU_MESSAGE) % {"country": countries.name(country) or country}


def tax_id_display(value: str, country: str) -> str:
    """The stored tax id as the country writes it; a value that is not valid is shown as stored."""
    country = str(country or "").upper()
    normal = tax_id_normal(value, country)
    if not normal:
        return value or ""
    if country in EU_VAT_PREFIX:
        return EU_VAT_PREFIX[country] + normal
    for module in _DISPLAYED.get(country, ()):
        if module.is_valid(normal):
            return module.format(normal)
    return normal


# Names people write that are none of the three languages' official ones, folded.
_COUNTRY_ALIASES = {
    "eeuu": "US", "ee uu": "US", "usa": "US", "estados unidos de america": "US", "eua": "US",
    "uk": "GB", "inglaterra": "GB", "holanda": "NL", "republica dominicana": "DO",
}


@functools.cache
def _country_names() -> dict[str, str]:
    names = dict(_COUNTRY_ALIASES)
    for language in ("en", "es", "pt-br"):
        with translation.override(language):
            for code, name in countries:
                names.setdefault(fold(str(name)), code)
    for code in countries:
        names.setdefault(fold(countries.alpha3(code.code)), code.code)
        names[fold(code.code)] = code.code
    return names


def country_code(text: str) -> str | None:
    """'España', 'espanha', 'Spain', 'es' or 'ESP' -> 'ES'; None for what is no country we know."""
    folded = fold(text).replace(".", "")
    return _country_names().get(folded) if folded else None
