"""A client's phone: stored in E.164 (`phone_clean`), shown as its country writes it (`display`),
dialled through E.164 for `tel:` links and WhatsApp's click-to-chat.

Phones are typed freely (spaces, dashes, brackets, a trunk 0, 00 or + before the country code);
the client's country (ISO code) says how to read a number written without its country code.
Only a number that Google's libphonenumber holds valid gets a WhatsApp link: a link to a wrong
number is worse than none.
"""

import functools

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

WHATSAPP_URL = "https://wa.me/{digits}"
MEXICO = 52
# Mexico dropped its mobile "1" after +52 and the 044/045/01/02 dialling prefixes in 2019–2020;
# people and old address books still write them. libphonenumber reads the old forms as invalid.
_MEXICO_OLD_PREFIXES = (("1", 11), ("044", 13), ("045", 13), ("01", 12), ("02", 12))


def e164(phone: str, country: str = "") -> str | None:
    """'612 34 56 78' (ES) -> '+34612345678'; None when the number cannot be a valid phone."""
    if not phone or not phone.strip():
        return None
    return _e164(phone, str(country or "").strip().upper() or None)


@functools.lru_cache(maxsize=4096)  # a list row asks for its tel:, WhatsApp and shown forms of one number
def _e164(phone: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None
    valid = phonenumbers.is_valid_number(number)  # once: an import checks 100,000 phones
    if not valid and number.country_code == MEXICO:
        number = _mexico_current(number)
        valid = number is not None and phonenumbers.is_valid_number(number)
    if not valid:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _mexico_current(number: phonenumbers.PhoneNumber) -> phonenumbers.PhoneNumber | None:
    national = str(number.national_number)
    if number.italian_leading_zero:
        national = "0" * (number.number_of_leading_zeros or 1) + national
    for prefix, length in _MEXICO_OLD_PREFIXES:
        if national.startswith(prefix) and len(national) == length:
            return phonenumbers.parse(f"+{MEXICO}{national[len(prefix):]}")
    return None


def phone_clean(phone: str, country: str = "") -> str:
    """The number in E.164 (how it is stored), or a ValidationError for what cannot be a phone."""
    number = e164(phone, country)
    if number is None:
        raise ValidationError(
            _("This cannot be a phone number: write it with its area code, or with + and the country code."),
            code="invalid_phone",
        )
    return number


def display(phone: str, country: str = "") -> str:
    """How the client's country writes the number: '612 34 56 78' for a Spanish client, the
    international form ('+351 912 345 678') for a number of another country; as stored when invalid."""
    number = e164(phone, country)
    if number is None:
        return phone or ""
    parsed = phonenumbers.parse(number)
    if phonenumbers.region_code_for_number(parsed) == str(country or "").upper():
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def tel_href(phone: str, country: str = "") -> str:
    """The `tel:` target: E.164 when the number is valid, else what was typed, without spaces."""
    return f"tel:{e164(phone, country) or ''.join(phone.split())}"


def whatsapp_url(phone: str, country: str = "") -> str | None:
    """wa.me's click-to-chat link (digits of E.164, no '+'), or None for an unusable number."""
    number = e164(phone, country)
    return WHATSAPP_URL.format(digits=number[1:]) if number else None
