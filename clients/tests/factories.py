import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone
from faker import Faker

from clients.models import Category, Client, Contract, FollowUp, Interaction, Product, Purchase

fake = Faker(["es_ES", "pt_BR"])


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Categoría {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Producto {n}")
    category = factory.SubFactory(CategoryFactory)
    price = Decimal("25.00")


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    first_name = factory.LazyFunction(fake.first_name)
    last_name = factory.LazyFunction(fake.last_name)
    email = factory.LazyFunction(fake.email)
    phone = factory.Sequence(lambda n: f"+346{n:08d}")  # stored in E.164, as the form and imports leave it
    city = factory.LazyFunction(fake.city)


class PurchaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Purchase

    client = factory.SubFactory(ClientFactory)
    date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=10))
    amount = Decimal("100.00")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    client = factory.SubFactory(ClientFactory)
    summary = "Llamada de seguimiento"


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    client = factory.SubFactory(ClientFactory)
    due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
    assigned_to = factory.SelfAttribute("client.owner")


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    client = factory.SubFactory(ClientFactory)
    title = "Mantenimiento anual"
    start_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=300))
    end_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=65))
    value = Decimal("1200.00")
