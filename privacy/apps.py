from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """The client's privacy rights (export, erasure): they touch every app, so they sit above all."""

    name = "privacy"
