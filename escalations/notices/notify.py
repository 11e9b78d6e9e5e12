"""GOV.UK Notify as the notices' channel (NOTICE_CHANNEL=notify; ADR 0033).

Councils, the NHS and police forces already send service email and text messages through
GOV.UK Notify, so a partnership may ask the portal to do the same instead of SMTP. The relay
(escalations.notices.relay) is unchanged around it: it claims a notice, commits, calls
send_notice with no transaction open, and records the result; retries, backoff and giving up
are the relay's. What this module adds:

- One Notify template per notice kind (and one for the daily digest, one for the text message
  on an immediate-risk alert), each filled from the same summary the email and the page show
  (escalations.notices.summary): never anything about the child. template_names() lists them
  with their personalisation fields; docs/integrations.md carries that table (a test compares).
- Notify's `reference` is the notice key, so a message sent twice (the relay killed between
  Notify's acceptance and the record of it) is recognisable in Notify as the same notice.
- Each message's Notify id is recorded the moment Notify accepts it, so a retry after the text
  message failed does not send the email again.
- Notify's answers become two failures the relay understands: Refused (a 400: this message will
  never go, so it is given up at once with Notify's own words) and Unavailable (403, 429, 5xx,
  a timeout: every message would meet it, so the run stops and the notice is retried later).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient
from requests import Timeout

from cases.models import Person
from escalations.models import Notice, NoticeKind

# The fields each template may use, as ((name), what it holds). Notify refuses a message whose
# template uses a field not given, so every field is always given, empty where it does not
# apply (a conference concern has no stage or due moment).
EMAIL_FIELDS = (
    ("name", "the recipient's name"),
    ("kind", "what happened, e.g. 'Escalated to you'"),
    ("reference", "the escalation's reference (or 'Conference concern 12', or the dashboard)"),
    (
        "agencies",
        "which agency challenged which, e.g. 'Meadow School challenged Kirklees Children's Social Care' (empty for a conference concern)",
    ),
    ("guidance", "what the notice means"),
    ("to_do", "what the reader must do, and by when"),
    ("stage", "'Stage 2: Line managers' (empty for a conference concern)"),
    ("due", "the stage's due moment in words (may be empty)"),
    ("url", "the link to open it in the portal"),
    ("urgent", "'yes' or 'no' (for a conditional line: ((urgent??URGENT: )))"),
)
DIGEST_FIELDS = (
    ("name", "the recipient's name"),
    ("count", "how many notices the digest lists"),
    ("day", "the day, e.g. 'Monday 4 January 2027'"),
    ("notices", "one bullet line per notice: kind, reference, what to do (Notify markdown)"),
    ("url", "the link to the recipient's notifications page"),
)
TEXT_FIELDS = (
    ("reference", "the escalation's reference"),
    ("url", "the link to open it in the portal"),
)
DIGEST = "digest"
IMMEDIATE_RISK_TEXT = "immediate_risk_text"
TEXT_KINDS = frozenset({NoticeKind.IMMEDIATE_RISK})

# The statuses of Notify's delivery receipts (its callbacks), and what each failure means.
DELIVERED = "delivered"
FAILED = {
    "permanent-failure": "the address or number does not exist, or the provider refuses it",
    "temporary-failure": "the inbox was full or the phone off while Notify kept trying",
    "technical-failure": "a technical failure at GOV.UK Notify",
}


class Refused(Exception):
    """Notify refused this message (400: an address it will not take, a template or field that
    does not fit): sending it again would meet the same answer."""


class Unavailable(Exception):
    """Notify could not take any message now (a rejected API key, its rate limit, its own
    failure, no answer in time): the relay stops and retries later."""


def in_use() -> bool:
    return settings.NOTICE_CHANNEL == "notify"


def template_names() -> dict[str, tuple[str, tuple[tuple[str, str], ...]]]:
    """Every template the portal sends through Notify: name -> (what it is, its fields)."""
    names = {kind.value: (f"Email: {kind.label}", EMAIL_FIELDS) for kind in NoticeKind}
    names[DIGEST] = ("Email: the daily digest", DIGEST_FIELDS)
    names[IMMEDIATE_RISK_TEXT] = ("Text message: immediate risk alert", TEXT_FIELDS)
    return names


def setting_name(template: str) -> str:
    return f"GOVUK_NOTIFY_TEMPLATE_{template.upper()}"


def missing_settings() -> list[str]:
    """The settings NOTICE_CHANNEL=notify needs and lacks (a system check names them)."""
    missing = [] if settings.GOVUK_NOTIFY_API_KEY else ["GOVUK_NOTIFY_API_KEY"]
    return missing + [
        setting_name(name)
        for name in template_names()
        if name not in settings.GOVUK_NOTIFY_TEMPLATES
    ]


def templates_table() -> str:
    """The Markdown table docs/integrations.md lists the templates in."""
    lines = [
        "| setting | template | personalisation fields |",
        "| --- | --- | --- |",
    ]
    for name, (what, fields) in template_names().items():
        listed = ", ".join(f"`(({field}))`" for field, _ in fields)
        lines.append(f"| `{setting_name(name)}` | {what} | {listed} |")
    return "\n".join(lines)


def fields_table() -> str:
    """The Markdown table of what each personalisation field holds (docs/integrations.md)."""
    lines = ["| field | in | what it holds |", "| --- | --- | --- |"]
    for group, fields in (
        ("notice emails", EMAIL_FIELDS),
        ("the digest", DIGEST_FIELDS),
        ("the text message", TEXT_FIELDS),
    ):
        lines += [f"| `(({name}))` | {group} | {what} |" for name, what in fields]
    return "\n".join(lines)


def client() -> NotificationsAPIClient:
    return NotificationsAPIClient(
        settings.GOVUK_NOTIFY_API_KEY,
        base_url=settings.GOVUK_NOTIFY_BASE_URL,
        timeout=settings.GOVUK_NOTIFY_TIMEOUT,
    )


def _words(error: APIError) -> str:
    """Notify's own message(s): {"errors": [{"error": ..., "message": ...}]}."""
    message = error.message
    if isinstance(message, list):
        return "; ".join(
            str(m.get("message", m)) if isinstance(m, dict) else str(m) for m in message
        )
    return str(message)


def _call(send, **fields) -> dict:
    try:
        return send(**fields)
    except APIError as error:
        status = error.status_code
        if isinstance(error.__cause__, Timeout):
            raise Unavailable(
                f"GOV.UK Notify did not answer within {settings.GOVUK_NOTIFY_TIMEOUT} seconds"
            ) from error
        if status == 400:
            raise Refused(f"GOV.UK Notify refused the message (400): {_words(error)}") from error
        if status == 403:
            raise Unavailable(
                f"GOV.UK Notify refused the API key (403): {_words(error)}. Check GOVUK_NOTIFY_API_KEY."
            ) from error
        if status == 429:
            raise Unavailable(
                f"GOV.UK Notify's rate limit was reached (429): {_words(error)}"
            ) from error
        raise Unavailable(f"GOV.UK Notify failed ({status}): {_words(error)}") from error


def wants_text(notice: Notice) -> bool:
    return notice.kind in TEXT_KINDS and bool(notice.recipient.mobile)


def _needs_sending(notify_id: str, status: str) -> bool:
    # Not yet accepted by Notify, or accepted and then reported undelivered (sent again).
    return not notify_id or status in FAILED


def email_personalisation(notice: Notice, summary: dict) -> dict:
    fields = {name: str(summary.get(name, "") or "") for name, _ in EMAIL_FIELDS}
    fields["name"] = notice.recipient.full_name
    fields["urgent"] = "yes" if notice.urgent else "no"
    return fields


def send_notice(notice: Notice, summary: dict) -> None:
    """Email the notice through Notify and, for an immediate-risk alert to someone with a
    mobile number, text it too. Call with no transaction open (the relay's send step)."""
    api = client()
    if _needs_sending(notice.notify_email_id, notice.email_status):
        answer = _call(
            api.send_email_notification,
            email_address=notice.recipient.email,
            template_id=settings.GOVUK_NOTIFY_TEMPLATES.get(notice.kind, ""),
            personalisation=email_personalisation(notice, summary),
            reference=notice.key,
        )
        notice.notify_email_id = answer["id"]
        # scoped-lookup: allowed (the notice the relay claimed; records Notify's id)
        Notice.objects.filter(pk=notice.pk).update(notify_email_id=answer["id"], email_status="")
    if wants_text(notice) and _needs_sending(notice.notify_text_id, notice.text_status):
        answer = _call(
            api.send_sms_notification,
            phone_number=notice.recipient.mobile,
            template_id=settings.GOVUK_NOTIFY_TEMPLATES.get(IMMEDIATE_RISK_TEXT, ""),
            personalisation={name: str(summary.get(name, "")) for name, _ in TEXT_FIELDS},
            reference=notice.key,
        )
        notice.notify_text_id = answer["id"]
        # scoped-lookup: allowed (the notice the relay claimed; records Notify's id)
        Notice.objects.filter(pk=notice.pk).update(notify_text_id=answer["id"], text_status="")


def digest_reference(person: Person, day: date) -> str:
    return f"digest:{person.pk}:{day.isoformat()}"


def send_digest(person: Person, notices: list[Notice], summaries: list[dict], day: date, url: str):
    """One digest email through Notify for the notices; its id recorded on each of them."""
    lines = [f"* {s['kind']}: {s['reference']}. {s['to_do']}" for s in summaries]
    answer = _call(
        client().send_email_notification,
        email_address=person.email,
        template_id=settings.GOVUK_NOTIFY_TEMPLATES.get(DIGEST, ""),
        personalisation={
            "name": person.full_name,
            "count": str(len(notices)),
            "day": f"{day:%A} {day.day} {day:%B %Y}",
            "notices": "\n".join(lines),
            "url": url,
        },
        reference=digest_reference(person, day),
    )
    # scoped-lookup: allowed (the notices the relay claimed for this digest)
    Notice.objects.filter(pk__in=[n.pk for n in notices]).update(
        notify_email_id=answer["id"], email_status=""
    )
