"""The rep's phone-first view: one-tap call and email, "save and next" down the list, notes and
status changes in one timeline, and a digest with a link to each new lead."""

from __future__ import annotations

from email import message_from_bytes, policy

from sqlalchemy import select

from app.db import db
from app.followup.models import FollowUpNote
from app.followup.routes import tel
from app.mail.models import OutboxMessage
from tests.builders import csrf_token, log_in
from tests.followup_fixtures import followup_of
from tests.test_followup_list import listed_ids, two_reps_with_leads


def test_a_phone_number_becomes_a_one_tap_call():
    assert tel("+49 (30) 1234-56") == "+4930123456"
    assert tel("555 0100 ext. 7") == "55501007"
    assert tel("0+1") == "01"
    assert tel(None) == ""


def test_the_list_and_the_page_offer_a_call_and_an_email(app, client, event):
    rita, _emil = two_reps_with_leads(event)
    hot = followup_of("hot@firm.example")
    hot.lead.phone = "+1 (555) 010-0200"
    db.session.commit()
    log_in(client, rita)

    listing = client.get("/followups").get_data(as_text=True)
    page = client.get(f"/followups/{hot.id}").get_data(as_text=True)

    for html in (listing, page):
        assert 'href="tel:+15550100200"' in html
        assert 'href="mailto:hot@firm.example"' in html
    assert '<dl class="pairs">' in page and "Save and next" in page


def test_save_and_next_saves_and_opens_the_next_followup_in_list_order(app, client, event):
    rita, _emil = two_reps_with_leads(event)
    log_in(client, rita)
    order = listed_ids(client.get("/followups").get_data(as_text=True))
    assert len(order) == 3
    path = f"/followups/{order[0]}"
    token = csrf_token(client.get(path).get_data(as_text=True))

    answer = client.post(
        path, data={"csrf_token": token, "status": "qualified", "note": "Demo booked", "next": "1"}
    )

    # The first is saved (and so leaves the open list), yet the next one is still found.
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/followups/{order[1]}")
    assert followup_of("hot@firm.example").status == "qualified"
    # Nothing typed: "save and next" just moves on.
    answer = client.post(
        f"/followups/{order[1]}",
        data={"csrf_token": token, "status": "open", "note": "", "next": "1"},
    )
    assert answer.headers["Location"].endswith(f"/followups/{order[2]}")
    # The last one leads back to the list.
    answer = client.post(
        f"/followups/{order[2]}",
        data={"csrf_token": token, "status": "contacted", "next": "1"},
        follow_redirects=True,
    )
    assert "That was the last follow-up in the list." in answer.get_data(as_text=True)


def test_save_and_next_keeps_the_lists_filter(app, client, event):
    rita, _emil = two_reps_with_leads(event)
    log_in(client, rita)
    warm_and_cold = listed_ids(client.get("/followups?priority=cold").get_data(as_text=True))
    listing = client.get("/followups?priority=cold").get_data(as_text=True)
    assert f"/followups/{warm_and_cold[0]}?priority=cold" in listing
    path = f"/followups/{warm_and_cold[0]}?priority=cold"
    token = csrf_token(client.get(path).get_data(as_text=True))
    answer = client.post(path, data={"csrf_token": token, "status": "contacted", "next": "1"})
    # Only cold leads were listed: the hot and warm ones are not "next".
    location = answer.headers["Location"]
    if len(warm_and_cold) > 1:
        assert location.endswith(f"/followups/{warm_and_cold[1]}?priority=cold")
    else:
        assert location.endswith("/followups?priority=cold")


def test_notes_and_status_changes_are_one_timeline(app, client, event):
    rita, _emil = two_reps_with_leads(event)
    log_in(client, rita)
    followup = followup_of("warm@firm2.example")
    path = f"/followups/{followup.id}"
    token = csrf_token(client.get(path).get_data(as_text=True))

    client.post(path, data={"csrf_token": token, "status": "contacted", "note": "Left a voicemail"})
    client.post(path, data={"csrf_token": token, "status": "contacted", "note": "Called back"})
    client.post(path, data={"csrf_token": token, "status": "qualified"})

    lines = db.session.execute(
        select(FollowUpNote.status, FollowUpNote.body).order_by(FollowUpNote.id)
    ).all()
    assert lines == [("contacted", "Left a voicemail"), (None, "Called back"), ("qualified", "")]
    html = client.get(path).get_data(as_text=True)
    timeline = html.split('class="timeline"')[1].split("</ol>")[0]
    # Newest first, each with its status; routing's own line closes it.
    assert timeline.index("Qualified") < timeline.index("Called back")
    assert timeline.index("Called back") < timeline.index("Left a voicemail")
    assert timeline.index("Left a voicemail") < timeline.index("Rule “Rest”")
    assert timeline.count('class="badge') == 2


def test_the_digest_links_each_new_lead_to_its_followup(app, client, event):
    rita, _emil = two_reps_with_leads(event)
    (row,) = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == "followup_digest", OutboxMessage.recipient.contains(rita.email)
        )
    )
    message = message_from_bytes(row.content or b"", policy=policy.default)
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert 'name="viewport"' in html
    for address in ("hot@firm.example", "warm@firm2.example", "cold@firm3.example"):
        link = f"http://testserver/followups/{followup_of(address).id}"
        assert f'href="{link}"' in html
        assert link in text
