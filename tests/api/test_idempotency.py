import pytest

from customers.models import Contact

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"


def test_a_retried_post_returns_the_first_response_and_creates_nothing_new(api):
    body = {"first_name": "Lin", "email": "lin@example.com"}

    first = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    retry = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true" and retry["ETag"] == first["ETag"]
    assert Contact.objects.count() == 1


def test_the_replay_is_rendered_in_the_format_the_retry_asks_for(api):
    body = {"first_name": "Lin"}
    api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k")

    retry = api.post(
        URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k", HTTP_ACCEPT="application/xml"
    )

    assert retry.status_code == 201 and b"<first_name>Lin</first_name>" in retry.content


def test_the_same_key_with_a_different_body_is_refused(api):
    api.post(URL, {"first_name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    response = api.post(URL, {"first_name": "B"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert list(Contact.objects.values_list("first_name", flat=True)) == ["A"]


def test_a_failed_request_does_not_burn_the_key(api):
    bad = api.post(URL, {"email": "nope"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    good = api.post(URL, {"email": "nope"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert bad.status_code == good.status_code == 400
    assert "Idempotent-Replayed" not in good
    assert Contact.objects.count() == 0


def test_keys_are_scoped_to_their_owner(api, make_api_client, sales_user):
    other = make_api_client(sales_user, ["contacts:read", "contacts:write"])
    api.post(URL, {"first_name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    response = other.post(URL, {"first_name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Contact.objects.count() == 2


def test_batches_are_idempotent_too(api):
    records = [{"first_name": "A", "external_id": "e1"}, {"first_name": "B", "external_id": "e2"}]

    first = api.post(f"{URL}batch/", records, format="json", HTTP_IDEMPOTENCY_KEY="b1")
    retry = api.post(f"{URL}batch/", records, format="json", HTTP_IDEMPOTENCY_KEY="b1")

    assert first.json() == retry.json() and first.json()["created"] == 2
    assert Contact.objects.count() == 2
