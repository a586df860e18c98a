"""Seeds the beat entry that forgets the deliveries ended more than 30 days ago."""

from django.db import migrations

ZONE = "Europe/Madrid"
NAME = "Webhooks: forget old deliveries"


def seed_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    # 03:55, after the night and its chores: the night's status changes can make many deliveries.
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="55", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone=ZONE,
    )
    PeriodicTask.objects.update_or_create(name=NAME, defaults={
        "task": "webhooks.tasks.deliveries_purge", "crontab": crontab, "enabled": True,
        "description": "Deletes the webhook deliveries delivered or failed more than 30 days ago.",
    })


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0002_schedule")]

    operations = [migrations.RunPython(seed_schedule, remove_schedule)]
