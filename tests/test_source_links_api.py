"""The source links API: admins and marketers make, read, change and remove an event's links
(nobody else may, and a refused call changes nothing); a registration read through the API
carries every tracking field the form keeps, the link's code among them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.db import db
from app.registrations import source_links
from app.registrations.models import SourceLink
from tests.builders import bearer, csrf_token, make_user

LINK = {"name": "LinkedIn ad", "utm_source": "linkedin", "utm_medium": "paid_social"}
ROLES = ("anonymous", "rep", "marketer", "admin")
HIDDEN = re.compile(r'<input id="(\w+)" name="\1" type="hidden" value="([^"]*)"')


def path(code: str = "") -> str:
    return "/api/v1/events/launch-webinar/source-links" + (f"/{code}" if code else "")


@pytest.fixture
def marketer(app):  # type: ignore[no-untyped-def]
    return bearer(make_user("marketer"))


@pytest.fixture
def newsletter(event):  # type: ignore[no-untyped-def]
    return source_links.create_link(
        event.id, {"name": "Newsletter", "utm_source": "news", "utm_medium": "email"}
    )


def test_a_marketer_makes_a_link_and_reads_its_address(client, event, marketer):
    created = client.post(path(), json={**LINK, "utm_term": "webinar"}, headers=marketer)

    assert created.status_code == 201, created.json
    code = created.json["code"]
    base = client.application.config["BASE_URL"]
    assert created.json["url"] == f"{base}/e/launch-webinar?src={code}"
    assert (created.json["utm_term"], created.json["visits"]) == ("webinar", 0)
    client.get(f"/e/launch-webinar?src={code}")
    listed = client.get(path(), headers=marketer)
    assert listed.json["total"] == 1
    assert listed.json["items"][0]["visits"] == 1
    assert client.get(path(code), headers=marketer).json["name"] == "LinkedIn ad"


def test_a_change_keeps_the_code_and_a_delete_removes_the_link(client, newsletter, marketer):
    changed = client.patch(
        path(newsletter.code), json={"name": "Spring newsletter"}, headers=marketer
    )

    assert changed.status_code == 200, changed.json
    assert (changed.json["name"], changed.json["code"]) == ("Spring newsletter", newsletter.code)
    assert changed.json["utm_source"] == "news"
    assert client.delete(path(newsletter.code), headers=marketer).status_code == 204
    assert client.get(path(newsletter.code), headers=marketer).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "utm_source": "news"}, "utm_medium"),
        ({**LINK, "name": "   "}, "name"),
        ({**LINK, "utm_campaign": "c" * 201}, "utm_campaign"),
    ],
)
def test_a_link_without_what_it_needs_is_refused_naming_the_field(
    client, event, marketer, body, field
):
    response = client.post(path(), json=body, headers=marketer)

    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_an_unknown_code_or_event_is_404(client, newsletter, marketer):
    assert client.get(path("nosuchxx"), headers=marketer).status_code == 404
    assert client.patch(path("x' OR 1=1"), json={}, headers=marketer).status_code == 404
    response = client.get("/api/v1/events/no-such-event/source-links", headers=marketer)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("GET list", (401, 403, 200, 200)),
        ("POST", (401, 403, 201, 201)),
        ("GET", (401, 403, 200, 200)),
        ("PATCH", (401, 403, 200, 200)),
        ("DELETE", (401, 403, 204, 204)),
    ],
)
@pytest.mark.parametrize("role", ROLES)
def test_only_admins_and_marketers_keep_source_links(client, newsletter, method, expected, role):
    headers = {} if role == "anonymous" else bearer(make_user(role))
    calls = {
        "GET list": ("GET", path(), None),
        "POST": ("POST", path(), LINK),
        "GET": ("GET", path(newsletter.code), None),
        "PATCH": ("PATCH", path(newsletter.code), {"name": "Renamed"}),
        "DELETE": ("DELETE", path(newsletter.code), None),
    }
    verb, url, body = calls[method]

    response = client.open(url, method=verb, json=body, headers=headers)

    status = expected[ROLES.index(role)]
    assert response.status_code == status
    if status >= 400:
        db.session.expire_all()
        assert db.session.scalar(select(func.count()).select_from(SourceLink)) == 1
        assert db.session.get(SourceLink, newsletter.id).name == "Newsletter"


def test_a_registration_read_through_the_api_carries_its_tracking_fields(
    client, newsletter, marketer
):
    html = client.get(
        f"/e/launch-webinar?src={newsletter.code}&utm_term=crm&utm_content=footer&gclid=G-1"
        "&fbclid=F-2",
        headers={"Referer": "https://news.example.com/spring"},
    ).get_data(as_text=True)
    form = dict(HIDDEN.findall(html))
    form.update(csrf_token=csrf_token(html), email="ada@example.com", first_name="Ada")
    assert client.post("/e/launch-webinar", data=form).status_code == 303

    item = client.get("/api/v1/events/launch-webinar/registrations", headers=marketer).json[
        "items"
    ][0]

    assert item["source_link"] == newsletter.code
    assert (item["utm_source"], item["utm_medium"]) == ("news", "email")
    assert (item["utm_term"], item["utm_content"]) == ("crm", "footer")
    assert (item["gclid"], item["fbclid"]) == ("G-1", "F-2")
    assert item["referrer"] == "https://news.example.com/spring"
