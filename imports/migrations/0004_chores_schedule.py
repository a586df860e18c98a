"""The imports' chores on the beat: the check of stuck and dead imports every 5 minutes (seeded every
15 by segmentation's 0009; a job whose worker died is now failed within minutes), and the nightly
purge of the previews nobody confirmed. An administrador's change to either entry is kept."""

from django.db import migrations

ZONE = "Europe/Madrid"
REQUEUE = "Requeue stuck imports"
PURGE = "Purge unconfirmed imports"


def seed_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_5, _created = CrontabSchedule.objects.get_or_create(
        minute="*/5", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone=ZONE,
    )
    PeriodicTask.objects.filter(name=REQUEUE, crontab__minute="*/15").update(
        crontab=every_5,
        description="Marks as failed the imports whose worker died (no heartbeat for a few minutes); queues again "
        "those confirmed or uploaded while the broker was down.",
    )
    # After the trash (03:30) and the old exports (03:45): previews older than IMPORT_PREVIEW_DAYS are deleted.
    nightly, _created = CrontabSchedule.objects.get_or_create(
        minute="50", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone=ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=PURGE, defaults={
            "task": "imports.tasks.imports_purge", "crontab": nightly, "enabled": True,
            "description": "Deletes the import previews nobody confirmed within IMPORT_PREVIEW_DAYS days.",
        },
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=PURGE).delete()
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    every_15, _created = CrontabSchedule.objects.get_or_create(
        minute="*/15", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone=ZONE,
    )
    PeriodicTask.objects.filter(name=REQUEUE, crontab__minute="*/5").update(crontab=every_15)


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0003_job_products_heartbeat"),
        ("segmentation", "0009_chores_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed_schedule, remove_schedule)]
