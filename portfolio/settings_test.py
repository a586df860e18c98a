"""Test override: the environment still decides the database and Redis (see settings.py)."""

import os

os.environ.setdefault("DEBUG", "true")
# A developer's .env (`make demo`) must not move the suite, e.g. to its DATABASE_URL.
os.environ.setdefault("ENV_FILE", "")

from portfolio.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
CELERY_TASK_ALWAYS_EAGER = True  # tests that need a real worker start one explicitly
# Production's rule, though DEBUG is on: the `admin_user` persona logs in with its second factor.
OTP_REQUIRED_FOR_ADMINS = True
WEBHOOKS_ALLOW_PRIVATE = True  # the tests' receivers listen on 127.0.0.1
CACHES["default"]["KEY_PREFIX"] = f"cartera-test-{os.getpid()}"  # noqa: F405
# Every test client comes from 127.0.0.1 and the cache outlives a test: the public pages' rate limits
# are off, except in the tests that set them (core/tests/test_faults17.py).
RATE_LIMIT_PUBLIC_ADDRESS = RATE_LIMIT_PUBLIC_LINK = RATE_LIMIT_CALENDAR_ADDRESS = RATE_LIMIT_CALENDAR_LINK = ""
if "replica" in DATABASES:  # noqa: F405
    # The suite's replica reads its test database (core.routers resolves the mirror to "default").
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # noqa: F405
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # A real second database standing in for a replica whose rows differ from the primary's
    # (core/tests/test_replica_database.py); created only for the tests that ask for it. Not with a
    # mirrored replica: its router would ask makemigrations to check this one's history too.
    DATABASES["replica_check"] = {  # noqa: F405
        **DATABASES["default"],  # noqa: F405
        "NAME": f"{DATABASES['default']['NAME']}_replica",  # noqa: F405
        "TEST": {"NAME": f"test_{DATABASES['default']['NAME']}_replica"},  # noqa: F405
    }
    # The pin after a write, from the start: the live server loads the middleware once per session.
    MIDDLEWARE.insert(1, "core.middleware.PrimaryPinMiddleware")  # noqa: F405
