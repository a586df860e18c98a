"""Security headers and the Content-Security-Policy the pages are written to satisfy."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

BASE_DIR = Path(__file__).resolve().parents[2]
# E-mails are not served by the site, so the browser's CSP never applies to them.
PAGE_TEMPLATES = [p for p in (BASE_DIR / "templates").rglob("*.html") if "emails" not in p.parts]


def assert_security_headers(response) -> None:
    policy = dict(
        directive.strip().split(" ", 1) for directive in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["base-uri"] == "'self'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


@pytest.mark.django_db
def test_login_page_sends_the_security_headers(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert_security_headers(response)


@pytest.mark.django_db
def test_a_signed_in_page_sends_the_security_headers(client, owner):
    client.force_login(owner)
    response = client.get(reverse("clients:client_list"))
    assert response.status_code == 200
    assert_security_headers(response)


@pytest.mark.parametrize("template", PAGE_TEMPLATES, ids=lambda p: str(p.relative_to(BASE_DIR / "templates")))
def test_templates_hold_no_inline_script(template):
    """script-src 'self' refuses inline code: behaviour lives in static/js (data attributes)."""
    text = template.read_text()
    inline_scripts = [
        tag for tag in re.findall(r"<script\b[^>]*>", text)
        if "src=" not in tag and "application/json" not in tag
    ]
    assert inline_scripts == []
    handlers = r"\son(?:change|click|dblclick|submit|reset|focus|blur|input|load|error|key\w+|mouse\w+)="
    assert re.findall(handlers, text) == []
    assert "javascript:" not in text


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_run_without_csp_violations(live_server, page, login, manager):
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    login(manager)
    for name in ("clients:agenda", "clients:client_list", "segmentation:dashboard"):
        page.goto(f"{live_server.url}{reverse(name)}")
        expect(page.locator("main")).to_be_visible()
    assert violations == []
