"""The organizer's identity on public pages: name, logo, accent and footer from the console's
settings (and /brand.css with a readable text colour on the accent), an event's cover image
and speakers through the form, the service and the API, and what search engines and link
previews read (Open Graph, Twitter card, schema.org Event JSON-LD)."""

from __future__ import annotations

import json
import re

import pytest

from app.brand import Brand, BrandRejected, contrast, save_brand
from app.events.services import EventRejected, by_slug, update_event
from tests.builders import bearer, csrf_token, event_form, log_in, make_event, make_user
from tests.fake_stripe import FakeStripe, stripe_settings

JSON_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)
ALICE = {"name": "Alice Ng", "title": "Head of research", "photo_url": "https://cdn.example/a.jpg"}


def structured_data(html: str) -> dict:
    (found,) = JSON_LD.findall(html)
    return json.loads(found)


def meta(html: str, key: str) -> str | None:
    found = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    return found.group(1) if found else None


@pytest.fixture
def app_config(app_config, fake_stripe: FakeStripe):  # type: ignore[no-untyped-def]
    # Paid events are published only with Stripe set up (here, its local fake).
    return app_config | stripe_settings(fake_stripe)


@pytest.fixture
def admin_client(client, app):  # type: ignore[no-untyped-def]
    log_in(client, make_user("admin"))
    return client


def brand_form(client, **values: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/admin/settings").text)
    data = {"name": "Acme Analytics", "logo_url": "", "accent": "#0b7a3e", "footer": ""}
    return client.post("/admin/settings/brand", data={"csrf_token": token, **data, **values})


def test_the_settings_are_saved_and_every_public_page_shows_them(admin_client, client, event):
    answer = brand_form(
        admin_client,
        logo_url="https://cdn.example/acme.svg",
        footer="Acme Analytics GmbH · Berlin · privacy@acme.example",
    )
    assert answer.status_code == 303
    settings = client.get("/admin/settings").text
    assert 'value="Acme Analytics"' in settings and 'value="#0b7a3e"' in settings

    for path in ("/", f"/e/{event.slug}"):
        page = client.get(path).text
        header = page.split('<header class="site-header">')[1].split("</header>")[0]
        assert "Acme Analytics" in header and ">Events<" not in header
        assert 'src="https://cdn.example/acme.svg"' in header
        assert "Acme Analytics GmbH · Berlin · privacy@acme.example" in page
        assert 'href="/brand.css"' in page


def test_brand_css_carries_the_accent_with_readable_text_on_it(app, client):
    save_brand({"name": "Dark", "accent": "#0B7A3E"})
    css = client.get("/brand.css")
    assert css.mimetype == "text/css"
    assert "--brand: #0b7a3e" in css.text and "--on-brand: #ffffff" in css.text

    # A light accent gets dark text on its buttons, and links fall back to the ink colour.
    save_brand({"name": "Light", "accent": "#ffd43b"})
    css = client.get("/brand.css").text
    assert "--on-brand: #111827" in css and "a { color: #1c2430; }" in css
    light = Brand(accent="#ffd43b")
    assert contrast(light.accent, light.on_accent) >= 4.5
    assert contrast("#000000", "#ffffff") == pytest.approx(21)


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"accent": "green"}, "accent", "#1f5fbf"),
        ({"accent": "#12345"}, "accent", "six hexadecimal digits"),
        ({"logo_url": "http://cdn.example/logo.png"}, "logo_url", "https://"),
        ({"logo_url": "javascript:alert(1)"}, "logo_url", "https://"),
        ({"name": ""}, "name", "Give the organization"),
    ],
)
def test_a_bad_colour_or_address_is_refused_naming_the_field(admin_client, values, field, words):
    answer = brand_form(admin_client, **values)
    assert answer.status_code == 422
    # The message stands next to its own field (the name's id is the brand form's own).
    html_id = "brand_name" if field == "name" else field
    assert f'id="{html_id}-error"' in answer.text
    assert words in answer.text.split(f'id="{html_id}-error"')[1].split("</p>")[0]
    with pytest.raises(BrandRejected) as refused:
        save_brand({"name": "X", **values} if field != "name" else values)
    assert field in refused.value.fields


def test_cover_and_speakers_through_the_form_and_the_landing_page(admin_client, client):
    answer = event_form(
        admin_client,
        title="Data day",
        cover_image_url="https://cdn.example/cover.jpg",
        speakers="Alice Ng | Head of research | https://cdn.example/a.jpg\nBob Li",
    )
    assert answer.status_code == 303
    edit = admin_client.get("/admin/events/data-day/edit").text
    assert "Alice Ng | Head of research | https://cdn.example/a.jpg" in edit
    update_event(by_slug("data-day"), {"status": "published"})
    page = client.get("/e/data-day").text
    assert 'class="event-cover" src="https://cdn.example/cover.jpg"' in page
    assert "Alice Ng" in page and "Head of research" in page and "Bob Li" in page


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"cover_image_url": "http://cdn.example/cover.jpg"}, "cover_image_url"),
        ({"speakers": "Alice | Title | ftp://cdn.example/a.jpg"}, "speakers"),
        ({"speakers": " | no name"}, "speakers"),
        ({"speakers": "A | B | https://c.example/p.jpg | extra"}, "speakers"),
    ],
)
def test_the_event_form_refuses_a_bad_image_naming_the_field(admin_client, values, field):
    answer = event_form(admin_client, title="Bad images", **values)
    assert answer.status_code == 422
    assert f'id="{field}-error"' in answer.text


def test_the_api_takes_and_shows_cover_and_speakers_and_refuses_plain_http(client, app):
    headers = bearer(make_user("marketer"))
    event = make_event()
    answer = client.patch(
        f"/api/v1/events/{event.slug}",
        json={"cover_image_url": "https://cdn.example/c.jpg", "speakers": [ALICE]},
        headers=headers,
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["cover_image_url"] == "https://cdn.example/c.jpg"
    assert answer.json["speakers"] == [ALICE]
    public = client.get("/api/v1/events").json["items"][0]
    assert public["speakers"] == [ALICE]
    for body, field in (
        ({"cover_image_url": "http://cdn.example/c.jpg"}, "cover_image_url"),
        ({"speakers": [{**ALICE, "photo_url": "http://x.example/a.jpg"}]}, "speakers"),
        ({"speakers": [{"title": "No name"}]}, "speakers"),
        ({"speakers": "Alice"}, "speakers"),
    ):
        refused = client.patch(f"/api/v1/events/{event.slug}", json=body, headers=headers)
        assert refused.status_code == 422, body
        assert field in refused.json["error"]["fields"], refused.json
    with pytest.raises(EventRejected) as exc:
        update_event(event, {"cover_image_url": "data:image/png;base64,AAAA"})
    assert "https://" in exc.value.fields["cover_image_url"]


def test_the_landing_page_has_social_preview_tags(app, client):
    save_brand({"name": "Acme Analytics", "accent": "#0b7a3e"})
    event = make_event(description="Hands-on: routing leads.")
    update_event(event, {"cover_image_url": "https://cdn.example/cover.jpg"})
    page = client.get(f"/e/{event.slug}").text
    assert meta(page, "og:title") == "Launch webinar"
    assert meta(page, "og:image") == "https://cdn.example/cover.jpg"
    assert meta(page, "og:site_name") == "Acme Analytics"
    assert meta(page, "og:url") == "http://testserver/e/launch-webinar"
    assert meta(page, "twitter:card") == "summary_large_image"
    assert meta(page, "twitter:image") == "https://cdn.example/cover.jpg"
    assert meta(page, "twitter:title") == "Launch webinar"


def test_the_landing_page_describes_the_webinar_for_search_engines(app, client):
    save_brand(
        {"name": "Acme Analytics", "accent": "#0b7a3e", "logo_url": "https://cdn.example/l.png"}
    )
    event = make_event(title="Routing </script><b>deep dive</b>", price_cents=4900, currency="EUR")
    update_event(event, {"cover_image_url": "https://cdn.example/cover.jpg", "speakers": [ALICE]})
    html = client.get(f"/e/{event.slug}").text
    assert "</script><b>" not in html.split("application/ld+json")[1].split("</script>")[0]
    data = structured_data(html)
    assert data["@context"] == "https://schema.org" and data["@type"] == "Event"
    assert data["name"] == "Routing </script><b>deep dive</b>"
    assert data["startDate"] == event.starts_at.isoformat() and "+00:00" in data["startDate"]
    assert data["endDate"] == event.ends_at.isoformat()
    assert data["eventAttendanceMode"] == "https://schema.org/OnlineEventAttendanceMode"
    assert data["location"] == {
        "@type": "VirtualLocation",
        "url": "http://testserver/e/launch-webinar",
    }
    assert "meet.example.com" not in json.dumps(data)  # the join link stays with registrants
    assert data["organizer"]["name"] == "Acme Analytics"
    assert data["organizer"]["logo"] == "https://cdn.example/l.png"
    assert data["image"] == ["https://cdn.example/cover.jpg"]
    assert data["performer"] == [
        {
            "@type": "Person",
            "name": "Alice Ng",
            "jobTitle": "Head of research",
            "image": "https://cdn.example/a.jpg",
        }
    ]
    assert data["offers"]["price"] == "49.00" and data["offers"]["priceCurrency"] == "EUR"


def test_a_zero_decimal_currency_is_priced_in_whole_units(app, client):
    event = make_event(price_cents=5000, currency="JPY")
    page = client.get(f"/e/{event.slug}").text
    data = structured_data(page)
    assert data["offers"]["price"] == "5000" and data["offers"]["priceCurrency"] == "JPY"
    # The price people read is in whole yen too, not a hundredth of it.
    assert "JPY 5,000" in page and "50.00" not in page
    free = make_event(slug="free-one")
    assert "offers" not in structured_data(client.get("/e/free-one").text)
    assert free.price_cents == 0
