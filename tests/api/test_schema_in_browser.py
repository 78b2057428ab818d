"""/api/schema/ opens in a browser (shown inline) and still negotiates as before for tools."""

import json

import pytest
import yaml

pytestmark = pytest.mark.django_db

# What Chromium and Firefox send when the user follows a link.
BROWSER_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)


def safe_yaml(content: bytes):
    """`yaml.safe_load` through libyaml: the same safe loader in C (the pure-Python one takes
    seconds over the whole document)."""
    return yaml.load(content, Loader=yaml.CSafeLoader)


def test_a_browser_opening_the_schema_is_shown_json_inline_not_a_download(client):
    response = client.get("/api/schema/", HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("inline;")
    assert json.loads(response.content)["openapi"].startswith("3.")


def test_a_browser_asking_for_yaml_is_shown_it_as_text(client):
    response = client.get("/api/schema/", {"format": "yaml"}, HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert safe_yaml(response.content)["openapi"].startswith("3.")


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("*/*", "application/vnd.oai.openapi; charset=utf-8"),
        ("application/vnd.oai.openapi+json", "application/vnd.oai.openapi+json"),
        ("application/json", "application/json"),
        ("application/yaml", "application/yaml; charset=utf-8"),
    ],
)
def test_tools_negotiate_the_schema_as_before(client, accept, content_type):
    response = client.get("/api/schema/", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert safe_yaml(response.content)["openapi"].startswith("3.")  # JSON is YAML too


def test_an_unknown_format_from_a_browser_is_still_a_404(client):
    response = client.get("/api/schema/", {"format": "pdf"}, HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 404
