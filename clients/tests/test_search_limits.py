"""Issue 17: a search of thousands of words, typed in the list or saved in a shared segment.

Each word was one condition: on SQLite 1,000 words made the list, the segments page and the
dashboard answer 500 and an export return only its header; on PostgreSQL a 100,000-word shared
segment kept every segments page busy. A search is now capped with a translated message, and the
query grows linearly with the words it keeps.
"""

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.urls import reverse
from django.utils import translation

from clients.models import MAX_SEARCH_WORDS, Client
from clients.tests.factories import ClientFactory
from segmentation.models import Segment
from segmentation.segments import MAX_FILTER_SIZE, segment_clients, segment_create

pytestmark = pytest.mark.django_db

THOUSAND_WORDS = " ".join(f"w{n}" for n in range(1_000))


def test_the_list_refuses_a_search_of_too_many_words_with_a_message(client, owner):
    ClientFactory(owner=owner, last_name="Pérez")
    client.force_login(owner)
    with translation.override("en"):
        response = client.get(reverse("clients:client_list"), {"q": THOUSAND_WORDS}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert f"Search for at most {MAX_SEARCH_WORDS} words.".encode() in response.content
    assert b"P\xc3\xa9rez" not in response.content  # nothing is listed for a refused search


def test_the_list_still_searches_a_few_words(client, owner):
    ClientFactory(owner=owner, first_name="José", last_name="Pérez Núñez")
    client.force_login(owner)
    words = " ".join(["jose"] * 20 + ["perez"])  # repeated words count once
    response = client.get(reverse("clients:client_list"), {"q": words})
    assert response.status_code == 200 and "Pérez Núñez" in response.content.decode()


def test_a_search_builds_one_condition_per_distinct_word_and_never_more_than_the_cap(owner):
    query = str(Client.objects.search(" ".join(f"w{n}" for n in range(20_000))).query)
    assert query.count("LIKE") <= MAX_SEARCH_WORDS + 1  # the words (the tax or phone key aside)
    assert str(Client.objects.search("ana ana ana").query).count("LIKE") == 1


def test_an_export_of_too_many_words_is_refused_not_an_empty_file(client, owner):
    ClientFactory(owner=owner)
    client.force_login(owner)
    response = client.get(reverse("clients:client_list_export", args=["csv"]), {"q": THOUSAND_WORDS})
    assert response.status_code == 302  # back to the list with the message, not a file of headers only


def _shared_segment_of_many_words(owner) -> Segment:
    """As a segment saved before the cap: the words went straight into its parameters."""
    return Segment.objects.create(owner=owner, name="Muchas", shared=True, params={"q": [THOUSAND_WORDS]})


def test_a_shared_segment_of_thousands_of_words_does_not_break_the_pages(client, owner, teammate):
    ClientFactory(owner=owner)
    segment = _shared_segment_of_many_words(owner)
    client.force_login(teammate)
    assert client.get(reverse("segmentation:segment_list")).status_code == 200
    assert client.get(reverse("segmentation:dashboard")).status_code == 200
    assert client.get(segment.get_absolute_url()).status_code == 200
    assert not segment_clients(user=teammate, segment=segment).exists()


def test_saving_a_segment_of_too_many_words_says_why(owner):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        segment_create(owner=owner, name="Muchas", shared=True, query=QueryDict(f"q={THOUSAND_WORDS}"))
    assert f"Search for at most {MAX_SEARCH_WORDS} words." in " ".join(refused.value.messages)
    assert not Segment.objects.exists()


def test_saving_a_segment_of_too_large_a_filter_says_why(owner):
    query = QueryDict(mutable=True)
    query.setlist("status", ["active"] * (MAX_FILTER_SIZE // 5))
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        segment_create(owner=owner, name="Enorme", shared=True, query=query)
    assert f"at most {MAX_FILTER_SIZE} characters" in " ".join(refused.value.messages)
    assert not Segment.objects.exists()
