import datetime as dt

import factory
from django.utils import timezone

from segmentation.models import NightlyRun, NightlyStep


class NightlyRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NightlyRun

    as_of = factory.Sequence(lambda n: dt.date(2026, 11, 1) + dt.timedelta(days=n))
    started_at = factory.LazyAttribute(lambda run: dt.datetime.combine(run.as_of, dt.time(2), tzinfo=timezone.get_default_timezone()))
    finished_at = factory.LazyAttribute(lambda run: run.started_at + dt.timedelta(minutes=3))
    state = NightlyRun.State.DONE

    @factory.post_generation
    def steps(run, create, extracted, **kwargs):
        """Every step done, unless `steps={name: fields}` says otherwise."""
        if not create:
            return
        overrides = extracted or {}
        for name in NightlyStep.Name.values:
            fields = {"state": NightlyStep.State.DONE, "started_at": run.started_at, "duration": dt.timedelta(seconds=12.5),
                      "rows_changed": 40, "attempts": 1} | overrides.get(name, {})
            NightlyStep.objects.create(run=run, name=name, **fields)
