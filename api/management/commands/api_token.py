"""Prints a new read and write API token for a user, for scripts: `manage.py api_token ana --name "ERP sync"`.

The token is printed once, alone on standard output (`TOKEN=$(manage.py api_token ana)`); only its
digest is stored. The user sees it, and can revoke it, on their API tokens page."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from api.models import ApiToken
from api.tokens import token_create


class Command(BaseCommand):
    help = "Prints a new read and write API token for USERNAME."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="Command line", help="The token's name, shown in the audit history.")

    def handle(self, *args, username: str, name: str, **options) -> None:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user is called {username!r}.")
        try:
            _token, secret = token_create(user=user, name=name, scope=ApiToken.Scope.WRITE)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(secret)
