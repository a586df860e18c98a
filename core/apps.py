import logging

from django.apps import AppConfig
from django.conf import settings

from core.logs import connect_task_logs

logger = logging.getLogger("cartera")


class CoreConfig(AppConfig):
    name = "core"

    def ready(self) -> None:
        connect_task_logs()  # one log line per background task, in the worker and in-process alike
        if settings.CELERY_TASK_ALWAYS_EAGER and not settings.CELERY_BROKER_URL:
            logger.info(
                "No broker configured (REDIS_URL / CELERY_BROKER_URL unset): "
                "background tasks run in-process."
            )
