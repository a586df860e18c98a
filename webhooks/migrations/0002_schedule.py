"""Seeds the webhooks' beat entries (django_celery_beat's DatabaseScheduler)."""

from django.db import migrations

ZONE = "Europe/Madrid"

# name: (task, kwargs as JSON, crontab minute, description)
ENTRIES = {
    # Every minute: a status change (by the night or by a write) reaches its endpoints within a
    # minute; with nobody subscribed it reads nothing. It reads the status changes past a cursor.
    "Webhooks: status changes": (
        "webhooks.tasks.webhooks_scan", '{"kinds": ["status"]}', "*",
        "Writes a webhook delivery for each status change since the last scan, for the endpoints subscribed.",
    ),
    # Every 15 minutes (the night also queues one when its colours are done): these read the
    # clients in red and the contracts in the notice window, so not every minute.
    "Webhooks: reds and renewals": (
        "webhooks.tasks.webhooks_scan", '{"kinds": ["red", "renewal"]}', "*/15",
        "Writes a webhook delivery for each client turned red and contract entered the renewal notice.",
    ),
    # Every minute: the retries that have come due (1, 5, 25, 125, 625 minutes after a failure).
    "Webhooks: send due deliveries": (
        "webhooks.tasks.deliveries_send_due", "{}", "*",
        "Sends the webhook deliveries whose next attempt is due.",
    ),
}


def seed_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, (task, kwargs, minute, description) in ENTRIES.items():
        crontab, _created = CrontabSchedule.objects.get_or_create(
            minute=minute, hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone=ZONE,
        )
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={"task": task, "kwargs": kwargs, "crontab": crontab, "enabled": True, "description": description},
        )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=list(ENTRIES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed_schedule, remove_schedule)]
