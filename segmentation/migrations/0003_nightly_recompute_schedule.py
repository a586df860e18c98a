"""Seeds the beat schedule of the nightly lifecycle recompute (django_celery_beat's DatabaseScheduler)."""

from django.db import migrations

TASK_NAME = "Nightly lifecycle recompute"


def seed_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    # 02:00 Madrid time, when nobody records purchases; LifecycleSettings.nightly_hour moves it.
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="0", hour="2", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Europe/Madrid",
    )
    PeriodicTask.objects.update_or_create(
        name=TASK_NAME,
        defaults={
            "task": "segmentation.tasks.nightly_recompute", "crontab": crontab, "enabled": True,
            "description": "Recomputes every client's figures, status and classifications.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("segmentation", "0002_lifecycle_settings"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed_schedule, remove_schedule)]
