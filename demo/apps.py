from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`manage.py seed_demo`: no models, no pages."""

    name = "demo"
