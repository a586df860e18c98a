"""The demo's ideal client profile: Cartera's own suggestions from the demo's best clients,
accepted as an administrador would, and every client's fit computed, so that the profile page,
the fit column and the dashboard's card show something on a fresh `make demo`."""

from django.db import transaction

from accounts.models import User
from icp.suggest import criteria_suggest
from segmentation.ideal import profile_save, summaries_take
from segmentation.ideal_fit import fit_recompute

THRESHOLD = 60


def profile_seed() -> int:
    """Saves the suggested criteria (none when the demo is too small to suggest); returns how many."""
    suggestions = criteria_suggest()
    criteria = [(item.attribute, item.value, item.weight) for item in suggestions.items]
    if not criteria:
        return 0
    admin = User.objects.filter(username="admin").get()
    with transaction.atomic():
        profile_save(by=admin, threshold=THRESHOLD, criteria=criteria)
        fit_recompute()  # at once, not after the commit: the demo's dashboard reads the summaries next
        summaries_take()
    return len(criteria)
