"""Who a demo client is to the outside: e-mail, phone, postal code and a tax id that passes its
country's check digits."""

from __future__ import annotations

import datetime as dt

from clients.text import fold
from demo.markets import Market, Place
from demo.sampling import Draws


class IdentityDraws(Draws):
    """Part of `demo.clients.Generator`, which sets `today` and the `slugs` cache."""

    today: int
    slugs: dict[str, str]

    def _slug(self, text: str) -> str:
        """'Peña Álvarez' -> 'penaalvarez', remembered: names repeat a lot."""
        slug = self.slugs.get(text)
        if slug is None:
            slug = self.slugs[text] = "".join(ch for ch in fold(text) if ch.isascii() and ch.isalnum())
        return slug

    def _email(self, first: str, last: str, brand: str, market: Market) -> str:
        # Reserved .example domains: a demo must never e-mail real people.
        if brand:
            box = self.one(["info", "pedidos", "administracion", "compras"] if market.language == "es"
                           else ["geral", "compras", "financeiro", "contato"])
            return f"{box}@{self._slug(brand)[:24] or 'empresa'}.example"
        local = ".".join(self._slug(part) for part in (first, last.split(" ")[0]) if part) or "cliente"
        provider = self.one(["correo", "mail", "buzon"] if market.language == "es" else ["correio", "mail", "caixa"])
        suffix = str(self.below(10, 99)) if self.rand() < 0.4 else ""
        return f"{local}{suffix}@{provider}.example"

    def _phone(self, market: Market, place: Place) -> str:
        r, d = self.rng, self.digits
        mobile = r.random() < 0.7
        if market.country == "ES":
            # Numbers libphonenumber holds valid: mobiles 6xx and 71x-74x, landlines 91x, 93x, 95x.
            if mobile:
                head = "6" + d(2) if r.random() < 0.8 else "7" + self.one("1234") + d(1)
            else:
                head = "9" + self.one("135") + d(1)
            number = f"{head} {d(3)} {d(3)}"
            return number if r.random() < 0.3 else f"+34 {number}"
        if market.country == "PT":
            head = self.one(["91", "92", "93", "96"]) if mobile else self.one(["21", "22"])  # Lisboa, Porto
            return f"+351 {head}{d(1)} {d(3)} {d(3)}"
        if market.country == "BR":
            body = f"9{d(4)}-{d(4)}" if mobile else f"{self.below(2, 6)}{d(3)}-{d(4)}"
            return f"+55 ({place.phone_area}) {body}"
        rest = d(10 - len(place.phone_area))
        return f"+52 {place.phone_area} {rest[:-4]} {rest[-4:]}"

    def _postal_code(self, market: Market, place: Place) -> str:
        number = self.below(place.postal_from, place.postal_to + 1)
        if market.country == "PT":
            return f"{number:04d}-{self.digits(3)}"
        if market.country == "BR":
            return f"{number:05d}-{self.digits(3)}"
        return f"{number:05d}"

    def _tax_id(self, market: Market, is_company: bool) -> str:
        d = self.digits
        if market.country == "ES":
            if is_company:
                letter, body = self.one("BBBA"), d(7)
                return f"{letter}{body}{_cif_control(body)}"
            number = self.below(10**7, 10**8)
            return f"{number}{'TRWAGMYFPDXBNJZSQVHLCKE'[number % 23]}"
        if market.country == "PT":
            body = ("5" if is_company else self.one("12")) + d(7)
            return body + _pt_nif_control(body)
        if market.country == "BR":
            if is_company:
                base = [int(ch) for ch in d(8) + "0001"]
                base.append(_br_check(base, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]))
                base.append(_br_check(base, [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]))
                s = "".join(map(str, base))
                return f"{s[:2]}.{s[2:5]}.{s[5:8]}/{s[8:12]}-{s[12:]}"
            base = [int(ch) for ch in d(9)]
            base.append(_br_check(base, list(range(10, 1, -1))))
            base.append(_br_check(base, list(range(11, 1, -1))))
            s = "".join(map(str, base))
            return f"{s[:3]}.{s[3:6]}.{s[6:9]}-{s[9:]}"
        letters = "".join(self.one("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3 if is_company else 4))
        born = dt.date.fromordinal(self.today - self.below(365 * 18, 365 * 60))
        tail = "".join(self.one("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(3))
        return f"{letters}{born:%y%m%d}{tail}"


def _cif_control(body: str) -> str:
    even = sum(int(ch) for ch in body[1::2])
    odd = sum(sum(divmod(int(ch) * 2, 10)) for ch in body[0::2])
    return str((10 - (even + odd) % 10) % 10)


def _pt_nif_control(body: str) -> str:
    remainder = 11 - sum(int(ch) * (9 - i) for i, ch in enumerate(body)) % 11
    return "0" if remainder >= 10 else str(remainder)


def _br_check(digits: list[int], weights: list[int]) -> int:
    remainder = sum(a * b for a, b in zip(digits, weights, strict=True)) % 11
    return 0 if remainder < 2 else 11 - remainder
