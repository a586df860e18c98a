import logging

from django.apps import AppConfig
from django.conf import settings

logger = logging.getLogger("cartera")


class CoreConfig(AppConfig):
    name = "core"

    def ready(self) -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER and not settings.CELERY_BROKER_URL:
            logger.info(
                "No broker configured (REDIS_URL / CELERY_BROKER_URL unset): "
                "background tasks run in-process."
            )
