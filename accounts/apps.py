from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Users and teams")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        # A new login starts fresh, so its first requests need not write the session again.
        user_logged_in.connect(start_fresh_session, dispatch_uid="accounts.start_fresh_session")
        # Whether this login passed its second factor, or must still give it or set one up.
        user_logged_in.connect(start_two_factor_session, dispatch_uid="accounts.start_two_factor_session")


def start_fresh_session(sender, request, user, **kwargs) -> None:
    from accounts.middleware import session_mark_fresh

    session_mark_fresh(request=request)


def start_two_factor_session(sender, request, user, **kwargs) -> None:
    from accounts.two_factor import session_start

    session_start(sender, request, user, **kwargs)
