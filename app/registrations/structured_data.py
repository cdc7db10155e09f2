"""What search engines and link previews read from a landing page: the schema.org `Event`
(JSON-LD) with its times, online location, organizer, image, speakers and price."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, url_for
from markupsafe import Markup

from app.brand import Brand
from app.events.models import Event
from app.money import plain_amount

SCHEMA = "https://schema.org/"


def page_url(event: Event) -> str:
    return current_app.config["BASE_URL"] + url_for("registrations.landing", slug=event.slug)


def event_document(event: Event, brand: Brand, summary: str) -> dict[str, Any]:
    """The schema.org Event for `event` as a JSON-ready dict. The join link never appears:
    the location is the landing page, where the seat is taken."""
    url = page_url(event)
    organizer: dict[str, Any] = {
        "@type": "Organization",
        "name": brand.name,
        "url": current_app.config["BASE_URL"] + "/",
    }
    if brand.logo_url:
        organizer["logo"] = brand.logo_url
    document: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.title,
        "description": summary,
        "url": url,
        "startDate": event.starts_at.isoformat(),
        "endDate": event.ends_at.isoformat(),
        "eventStatus": SCHEMA
        + ("EventCancelled" if event.status == "cancelled" else "EventScheduled"),
        "organizer": organizer,
    }
    if event.location:
        document["eventAttendanceMode"] = SCHEMA + "OfflineEventAttendanceMode"
        document["location"] = {"@type": "Place", "name": event.location, "address": event.location}
    else:
        document["eventAttendanceMode"] = SCHEMA + "OnlineEventAttendanceMode"
        document["location"] = {"@type": "VirtualLocation", "url": url}
    if event.cover_image_url:
        document["image"] = [event.cover_image_url]
    performers = []
    for speaker in event.speakers or []:
        person: dict[str, Any] = {"@type": "Person", "name": speaker["name"]}
        if speaker.get("title"):
            person["jobTitle"] = speaker["title"]
        if speaker.get("photo_url"):
            person["image"] = speaker["photo_url"]
        performers.append(person)
    if performers:
        document["performer"] = performers
    if event.is_paid:
        full = event.capacity is not None and event.seats_left == 0 and not event.waitlist
        document["offers"] = {
            "@type": "Offer",
            "url": url,
            # Minor units to the amount people pay: 4900 EUR cents is 49.00, 5000 JPY is 5000.
            "price": plain_amount(event.price_cents, event.currency),
            "priceCurrency": event.currency.upper(),
            "availability": SCHEMA + ("SoldOut" if full else "InStock"),
        }
    return document


def json_ld(document: dict[str, Any]) -> Markup:
    """The document for a <script type="application/ld+json">: `<`, `>` and `&` escaped, so
    no text from the event (a title with `</script>`) can end the element."""
    text = json.dumps(document, ensure_ascii=False, indent=1)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above for the script element
