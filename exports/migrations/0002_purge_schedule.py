"""Seeds the beat entry of the nightly purge of old exports (django_celery_beat's DatabaseScheduler;
an administrador can move it in the admin)."""

from django.db import migrations

NAME = "Purge old exports"


def seed_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    # After the trash purge (03:30): a quiet hour, and one file deletion per old export.
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="45", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Europe/Madrid",
    )
    PeriodicTask.objects.update_or_create(name=NAME, defaults={
        "task": "exports.tasks.exports_purge", "crontab": crontab, "enabled": True,
        "description": "Deletes the background exports (and their files) older than EXPORT_KEEP_DAYS.",
    })


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("exports", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed_schedule, remove_schedule)]
