"""Seeds the beat entry that gives senders to the campaigns that have none every five minutes (a
campaign launched while the broker was down waited for the night's resume)."""

from django.db import migrations

NAME = "Requeue campaigns without a sender"


def seed_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="*/5", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Europe/Madrid",
    )
    PeriodicTask.objects.update_or_create(name=NAME, defaults={
        "task": "campaigns.tasks.campaigns_requeue", "crontab": crontab, "enabled": True,
        "description": "Queues senders again for the campaigns still sending that no sender is working on.",
    })


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed_schedule, remove_schedule)]
