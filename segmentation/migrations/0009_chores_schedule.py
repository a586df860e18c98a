"""Seeds the beat entries of the chores that used to ride on the nightly run, each now scheduled on
its own (django_celery_beat's DatabaseScheduler; an administrador can move them in the admin).
The nightly run itself is seeded by 0003_nightly_recompute_schedule."""

from django.db import migrations

ZONE = "Europe/Madrid"

# name: (task, crontab minute, crontab hour, description)
ENTRIES = {
    # After the nightly run (02:00): a campaign whose sending a dead worker interrupted gets a
    # sender again. At night, when no sender of the day is still at work.
    "Resume interrupted campaigns": (
        "campaigns.tasks.campaigns_resume", "0", "3",
        "Gives every campaign still marked as sending a sender again (no recipient twice).",
    ),
    # Clients in the trash for more than 30 days are erased (anonymised, the sales kept).
    "Purge the trash": (
        "privacy.tasks.trash_purge", "30", "3",
        "Erases the clients that have been in the trash for more than 30 days.",
    ),
    # Every 15 minutes: an import confirmed while the broker was down waits at most that long,
    # not until the night; a run with nothing stuck reads one index and does nothing.
    "Requeue stuck imports": (
        "imports.tasks.imports_requeue", "*/15", "*",
        "Queues again the imports confirmed while the broker was down; marks as refused those whose worker died.",
    ),
}


def seed_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, (task, minute, hour, description) in ENTRIES.items():
        crontab, _created = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone=ZONE,
        )
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task, "crontab": crontab, "enabled": True, "description": description},
        )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=list(ENTRIES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("segmentation", "0008_nightly_runs"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed_schedule, remove_schedule)]
