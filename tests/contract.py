"""Field names as ../shared/CONTRACT.md lists them, written once for the tests that hold the
API to the contract."""

REGISTRATION_FIELDS_IN = {
    "email",
    "first_name",
    "last_name",
    "company",
    "job_title",
    "country",
    "phone",
    "answers",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "consent_marketing",
    # Issue "Every screen": the language registered in, when the event offers it.
    "language",
}
EVENT_FIELDS = {
    "slug",
    "title",
    "description",
    "starts_at",
    "duration_minutes",
    "timezone",
    # Issue "Every screen": what its public pages, emails and invites are written in.
    "language",
    # The languages it offers besides that one; the browser picks among them all.
    "other_languages",
    "capacity",
    "waitlist",
    "price_cents",
    "currency",
    "join_url",
    "location",
    "status",
    "campaign",
    "registration_closes_at",
    # Added by the payments issue (noted there): how long a paid registrant may cancel
    # and still be refunded.
    "refund_until_hours_before",
    # Issue "Trust": new registrations stay unverified until their email link is opened.
    "double_opt_in",
    # Issue "Capture": registrations wait for staff's approval (`requires_approval`); the rest
    # are ours to name (CONTRACT.md names only `requires_approval`).
    "requires_approval",
    "approval_holds_seat",
    "show_seats_left",
    # Issue "Connect": the webinar platform the event runs on, and its webinar there.
    "platform",
    "platform_webinar_id",
    # Issue "Capture": other sites that may frame the form and call the registration API.
    "embed_origins",
    # Issue "After the event": the recording, the post-event emails and their call to action
    # (CONTRACT.md names `recording_url` and `post_event_emails`).
    "recording_url",
    "post_event_emails",
    "cta_url",
    "cta_label",
    # Issue "Every screen": the landing page's cover picture and its speakers.
    "cover_image_url",
    "speakers",
}
# The environment variables of the CONTRACT's "Configuration" table.
CONFIGURATION_VARIABLES = {
    "DATABASE_URL",
    "SECRET_KEY",
    "BASE_URL",
    "MAIL_SERVER",
    "MAIL_PORT",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_USE_TLS",
    "MAIL_DEFAULT_SENDER",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "RATELIMIT_ENABLED",
    "REDIS_URL",
}
