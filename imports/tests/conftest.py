"""The clients the fixture files (imports/tests/fixtures/) meet, shared by the service and command tests."""

import pytest

from clients.tests.factories import ClientFactory, ProductFactory


@pytest.fixture
def clients_base(owner):
    """The clients the Spanish clients file meets: one by tax id, one by e-mail."""
    return {
        "nandu": ClientFactory(
            owner=owner,
            first_name="",
            last_name="",
            company_name="Cafés Ñandú",
            tax_id="B12345678",
            email="",
            phone="",
            city="Madrid",
            client_ref="",
        ),
        "maria": ClientFactory(
            owner=owner,
            first_name="María",
            last_name="Gómez",
            email="maria.gomez@example.com",
            phone="",
            city="",
            client_ref="",
        ),
    }


@pytest.fixture
def purchases_base(owner):
    """The clients and product the Portuguese purchases file meets: by reference, tax id and e-mail."""
    ProductFactory(name="café moído")
    return {
        "p1": ClientFactory(owner=owner, client_ref="P-1"),
        "by_tax": ClientFactory(owner=owner, client_ref="", tax_id="PT501234567"),
        "joao": ClientFactory(owner=owner, client_ref="", email="joao@exemplo.pt"),
    }
