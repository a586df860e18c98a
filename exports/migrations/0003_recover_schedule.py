"""Seeds the beat entry that recovers stuck exports every five minutes (the nightly purge did it
only once a day: an export queued while the broker was down waited until the night)."""

from django.db import migrations

NAME = "Recover stuck exports"


def seed_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="*/5", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Europe/Madrid",
    )
    PeriodicTask.objects.update_or_create(name=NAME, defaults={
        "task": "exports.tasks.exports_recover", "crontab": crontab, "enabled": True,
        "description": "Queues again the exports the broker never took; fails those whose worker died.",
    })


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("exports", "0002_purge_schedule")]

    operations = [migrations.RunPython(seed_schedule, remove_schedule)]
