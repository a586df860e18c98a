"""Seeds the beat entry that records, every night, the campaign that each new client answered
(campaigns.services.campaign_sources_record), for the purchases no page recorded (an import)."""

from django.db import migrations

NAME = "Record the campaigns new clients answered"


def seed_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="40", hour="4", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Europe/Madrid",
    )
    PeriodicTask.objects.update_or_create(name=NAME, defaults={
        "task": "campaigns.tasks.campaign_sources_record", "crontab": crontab, "enabled": True,
        "description": "Gives new clients who first bought in answer to a campaign that campaign as their source.",
    })


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0003_campaign_goal_referrals"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(seed_schedule, remove_schedule)]
