"""The segment, dashboard and thresholds pages run a constant number of queries."""

import pytest

from clients.tests.factories import ClientFactory

# session, user, the user's groups (roles), the clients shared with the user (access rule).
BASE = 4


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 20])
@pytest.mark.parametrize("url", ["/segments/", "/dashboard/"])
def test_segment_pages_queries_do_not_grow(client, django_assert_num_queries, owner, size, url):
    ClientFactory.create_batch(size, owner=owner)
    client.force_login(owner)
    with django_assert_num_queries(BASE + 1):  # one GROUP BY status over the visible clients
        assert client.get(url).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 20])
def test_thresholds_preview_queries_do_not_grow(client, django_assert_num_queries, admin_user, owner, size):
    from segmentation.tests.test_settings_page import FORM, buyers

    buyers(owner, *[(10 * n, 100 + n) for n in range(size)])
    client.force_login(admin_user)
    # session, user, groups; the settings row for the form and again for the current
    # thresholds; statuses now and proposed (one GROUP BY each); tiers now and proposed
    # (mean spend, then one GROUP BY, each).
    with django_assert_num_queries(3 + 2 + 2 + 4):
        assert client.post("/settings/lifecycle/", {**FORM, "preview": "1"}).status_code == 200
