"""The record PDF: every field of the Kirklees Appendix 5 form, the marking, pages, metadata,
hostile and awkward data."""

from datetime import date
from pathlib import Path

import pypdfium2
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import limits
from escalations import services
from escalations.models import Escalation
from escalations.record import engine
from escalations.record.render import record_form, render_form_pdf, render_record_pdf, with_record
from escalations.services import ActionItem
from tests.factories import EscalationAtStageFactory, OpenEscalationFactory
from tests.record.helpers import body_text, page_texts, reader, squeezed, text_of

FIRST_PAGE_PNG = Path(settings.BASE_DIR) / "var" / "record" / "first-page.png"

FORM_LABELS = [
    "Kirklees Safeguarding Children Partnership",
    "Professional Difference Escalation Record",
    "Child/Family's name",
    "D.O.B.",
    "Address",
    "Agency initiating escalation",
    "Date of initial escalation",
    "Stage of escalation",
    "Nature of professional difference (please tick)",
    "Referral decision",
    "Need for, or outcome of, an assessment",
    "Implementation of child's Plan (e.g. agreed actions not followed through)",
    "Effectiveness of child's Plan (e.g. drift/delay)",
    "Information sharing",
    "Child protection case conference decision",
    "Other (please state)",
    "Details of the professional difference and outcome sought",
    "Matter escalated by",
    "Matter escalated to",
    "Name",
    "Job title",
    "Agency",
    "Response from agency to professional difference",
    "Response from: Name",
    "Date of response",
    "Summary of response",
    "Outcome of escalation",
    "Actions to be taken",
    "By whom",
    "Completion date",
    "Additional comments (including any learning identified)",
    "Signature:",
    "Date:",
    "Designation:",
]


def test_the_record_shows_every_field_of_the_form_with_its_value(resolved_at_stage_five, world):
    pdf = render_record_pdf(resolved_at_stage_five)
    # Compared without whitespace: where a label wraps in its narrow cell depends on the
    # fonts installed (Liberation Sans, or DejaVu Sans, which is wider), not on the record.
    text = squeezed(text_of(pdf)).lower()
    for label in FORM_LABELS:
        assert squeezed(label).lower() in text, label
    values = [
        resolved_at_stage_five.reference,
        "Zoë O'Brien-Łukasiewicz",
        "14 July 2018",
        "Flat 2, 3 Invented Terrace",
        "NW1 0ZZ",
        "Meadow School",
        "2 November 2026",
        "☒ Stage 5",
        "☐ Stage 6",
        "Stage 5: Escalation to Head of Service",
        "CSC declined the referral despite new disclosures.",
        "The referral is reconsidered by a manager.",
        # Escalated by the school's head, to CSC's head of service (stage 5's two leads).
        "Matter escalated by Dan Dale Headteacher Meadow School",
        "Matter escalated to Heidi Hill Head of Service Northfold Children's Social Care",
        # The response as CSC recorded it.
        "Erin Earl",
        "Social Worker",
        "20 November 2026",
        "CSC has reviewed the referral with the team manager.",
        "Partly upheld",
        "The referral is reopened and a strategy discussion held.",
        "Hold a strategy discussion",
        "Frank Ford",
        "4 December 2026",
        "Share the school's chronology with CSC",
        "Carol Cole, Meadow School",
        "2 December 2026",
        "Send new disclosures in writing the same day.",
    ]
    for value in values:
        assert squeezed(value).lower() in text, value


def test_the_natures_tick_the_forms_boxes_and_state_the_others(resolved_at_stage_five):
    text = text_of(render_record_pdf(resolved_at_stage_five))
    assert "☒ Referral decision" in text
    assert "☐ Need for, or outcome of, an assessment" in text
    assert "☒ Information sharing" in text
    assert "☐ Child protection case conference decision" in text
    # Roles and responsibilities has no box of its own on the form: it ticks Other.
    assert "☒ Other (please state)" in text
    assert "Other (stated): Roles and responsibilities; Transport to the contact centre" in text


def test_every_page_carries_the_marking_the_reference_the_moment_and_page_x_of_y(
    resolved_at_stage_five,
):
    pages = page_texts(render_record_pdf(resolved_at_stage_five))
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        assert text.count("OFFICIAL-SENSITIVE") >= 2  # header and footer
        assert f"Reference {resolved_at_stage_five.reference}" in text
        assert "Produced " in text and " GMT" in text
        assert f"Page {number} of {len(pages)}" in text


def test_the_pdf_is_tagged_for_screen_readers_and_names_its_title_and_author(
    resolved_at_stage_five,
):
    pdf = reader(render_record_pdf(resolved_at_stage_five))
    assert pdf.metadata.title == (
        f"Professional Difference Escalation Record {resolved_at_stage_five.reference}"
    )
    assert pdf.metadata.author == "Kirklees Safeguarding Children Partnership"
    catalog = pdf.trailer["/Root"]
    assert catalog["/MarkInfo"]["/Marked"] is True or catalog["/MarkInfo"]["/Marked"] == True  # noqa: E712
    assert "/StructTreeRoot" in catalog
    assert catalog["/Lang"] == "en-GB"


def test_the_first_page_is_kept_as_a_picture_to_look_at(resolved_at_stage_five):
    # PDFium (pip-installed with the dev tools) rasterises it: no system program needed.
    document = pypdfium2.PdfDocument(render_record_pdf(resolved_at_stage_five))
    picture = document[0].render(scale=80 / 72).to_pil().convert("L")
    FIRST_PAGE_PNG.parent.mkdir(parents=True, exist_ok=True)
    picture.save(FIRST_PAGE_PNG)
    # An A4 page at 80 dots per inch, with ink on it: the form was drawn, not a blank page.
    assert picture.size == pytest.approx((661, 935), abs=1)
    darkest, lightest = picture.getextrema()
    assert darkest < 64 and lightest == 255
    assert FIRST_PAGE_PNG.stat().st_size > 10_000


def record_queries(escalation) -> int:
    with CaptureQueriesContext(connection) as queries:
        record_form(with_record(Escalation.objects.filter(pk=escalation.pk)).get())
    return len(queries)


def test_a_record_needs_a_fixed_number_of_queries_however_long_it_is(
    world, resolved_at_stage_five, django_assert_max_num_queries
):
    esc = resolved_at_stage_five
    shorter = record_queries(esc)
    # Four more responses; reopened, a second stage episode and outcome with five more actions.
    for i in range(4):
        services.record_response(esc, by=world.erin, summary=f"Further response {i}.")
    services.reopen(esc, by=world.dan, reason="The strategy discussion did not happen.")
    services.resolve(
        esc,
        by=world.dan,
        category="upheld",
        summary="The strategy discussion is booked.",
        raiser_satisfied=True,
        actions=[ActionItem(f"Follow-up {i}", "Frank Ford", date(2027, 1, 4)) for i in range(5)],
    )
    esc.refresh_from_db()
    assert (esc.responses.count(), esc.outcomes.count(), esc.actions.count()) == (5, 2, 7)

    assert record_queries(esc) == shorter
    with django_assert_max_num_queries(16):
        record_form(with_record(Escalation.objects.filter(pk=esc.pk)).get())


# --- hostile data --------------------------------------------------------------------------

HOSTILE = [
    '<img src="file:///etc/passwd">',
    '<link rel="stylesheet" href="http://127.0.0.1:6379/">',
    '<img src="http://169.254.169.254/latest/meta-data/">',
    "<style>@import url(file:///etc/shadow);</style>",
]


def test_markup_in_the_details_is_printed_as_text_and_fetches_nothing(world):
    esc = OpenEscalationFactory(
        details="Look: " + " ".join(HOSTILE), outcome_sought="</p><h1>Forged heading</h1>"
    )
    escalation = with_record(Escalation.objects.filter(pk=esc.pk)).get()
    rendered = render_form_pdf(record_form(escalation))
    text = squeezed(text_of(rendered.pdf))
    for markup in HOSTILE:
        assert squeezed(markup) in text
    assert squeezed("</p><h1>Forged heading</h1>") in text
    # Autoescaped: WeasyPrint saw text, not elements, so nothing was even asked for.
    assert rendered.asked == []


def test_the_url_fetcher_refuses_files_outside_static_and_every_network_address():
    html = (
        "<html lang='en'><head><title>t</title>"
        "<link rel='stylesheet' href='http://127.0.0.1:6379/'>"
        "<link rel='stylesheet' href='portal/portal.css'></head><body>"
        "<img src='file:///etc/passwd'>"
        "<img src='http://169.254.169.254/latest/meta-data/'>"
        "<img src='../../../../../../etc/hostname'>"
        "<img src='https://example.invalid/logo.png'>"
        "</body></html>"
    )
    static = Path(settings.STATICFILES_DIRS[0])
    rendered = engine.html_to_pdf(
        html, static_roots=[static], base_url=f"{static.as_uri()}/", timeout=20
    )
    assert "file:///etc/passwd" in rendered.refused
    assert "http://127.0.0.1:6379/" in rendered.refused
    assert "http://169.254.169.254/latest/meta-data/" in rendered.refused
    assert "https://example.invalid/logo.png" in rendered.refused
    assert "file:///etc/hostname" in rendered.refused  # ".." does not climb out of static/
    # The project's own static file is the one thing it may read.
    assert f"{static.as_uri()}/portal/portal.css" in rendered.asked
    assert f"{static.as_uri()}/portal/portal.css" not in rendered.refused


def test_a_symlink_in_static_cannot_lead_outside_it(tmp_path):
    root = tmp_path / "static"
    root.mkdir()
    (root / "ok.css").write_text("p { color: red }")
    (root / "escape.css").symlink_to("/etc/hostname")
    fetcher = engine.StaticOnlyFetcher([root])
    assert fetcher.fetch((root / "ok.css").as_uri()).read() == b"p { color: red }"
    with pytest.raises(engine.RefusedURL):
        fetcher.fetch((root / "escape.css").as_uri())
    with pytest.raises(engine.RefusedURL):
        fetcher.fetch("file://evil.example/" + str(root / "ok.css"))


def test_rendering_is_stopped_when_it_passes_its_time_limit(resolved_at_stage_five, settings):
    settings.RECORD_RENDER_SECONDS = 0.01
    with pytest.raises(engine.RenderTimeout):
        render_record_pdf(resolved_at_stage_five)


# --- real data -------------------------------------------------------------------------------


def test_very_long_details_run_over_pages_and_nothing_is_cut_off(world):
    """The three long boxes at nearly their maximum (cases.limits), one with a word longer
    than a line: everything is printed, over as many pages as it takes."""
    short = render_record_pdf(OpenEscalationFactory())
    paragraphs = [
        f"Paragraph {i:03d}: the school shared a further disclosure and CSC's reply did not "
        f"address it, so the concern stands and is set out again here in full detail."
        for i in range(84)
    ]
    unbroken = "x" * 300 + "END-OF-LONG-WORD"
    details, outcome, safety = ("\n\n".join(paragraphs[i : i + 28]) for i in range(0, 84, 28))
    details = details + "\n" + unbroken
    assert max(len(details), len(outcome), len(safety)) <= limits.ACCOUNT
    assert len(details) + len(outcome) + len(safety) > 13_000
    esc = OpenEscalationFactory(
        details=details,
        outcome_sought=outcome,
        interim_safety=safety,
        initial_discussion_on=date(2026, 11, 3),
    )
    pdf = render_record_pdf(esc)
    text = body_text(pdf)
    for paragraph in paragraphs:
        assert paragraph in text
    assert "END-OF-LONG-WORD" in text.replace(" ", "")
    assert len(reader(pdf).pages) >= len(reader(short).pages) + 2
    assert f"Page 1 of {len(reader(pdf).pages)}" in text_of(pdf)


def test_accented_apostrophised_and_right_to_left_names_are_printed_whole(world):
    esc = OpenEscalationFactory(
        child=services.ChildDetails(
            home_partnership=world.kirklees,
            given_names="ليلى",
            family_name="حداد",
            address="דירה 4, רחוב הדמיון 7",
        ),
        details="Father: Zoë O'Brien-Łukasiewicz's partner, Ngọc Ánh Đặng, says so.",
    )
    text = text_of(render_record_pdf(esc))
    assert "ليلى حداد" in text
    # Hebrew words are read in order; where digits sit between them is up to the reader.
    assert "רחוב הדמיון" in text and "דירה" in text
    assert "Zoë O'Brien-Łukasiewicz's partner, Ngọc Ánh Đặng" in text


def test_missing_optional_fields_say_not_recorded(world):
    esc = OpenEscalationFactory(
        child=services.ChildDetails(
            home_partnership=world.kirklees, family_name="Testwell", is_family_group=True
        ),
        receiving_person=None,
    )
    text = text_of(render_record_pdf(esc))
    assert "Child/Family's name Testwell family" in text
    assert "D.O.B. Not recorded" in text
    assert "Address Not recorded" in text
    assert "No response from the agency has been recorded yet." in text
    assert "Not resolved yet" in text
    assert "No actions recorded." in text


def test_thirty_actions_all_appear_with_their_owners_and_dates(world):
    esc = EscalationAtStageFactory(stage=5)
    actions = [
        ActionItem(
            f"Action number {i:02d}: write to the family",
            f"Owner {i:02d}",
            date(2026, 12, 1 + i % 28),
        )
        for i in range(1, 31)
    ]
    services.resolve(
        esc,
        by=world.dan,
        category="upheld",
        summary="Upheld in full.",
        raiser_satisfied=True,
        actions=actions,
    )
    pdf = render_record_pdf(esc)
    text = body_text(pdf)
    # Listed by completion date, numbered 1 to 30.
    for action in actions:
        assert f"{action.what} {action.owner_name} {action.due_on.day} December 2026" in text
    assert "30 Action number" in text
    pages = len(reader(pdf).pages)
    assert pages >= 4
    assert f"Page {pages} of {pages}" in text_of(pdf)


# --- both sides' written positions (issue 17, point 16) ----------------------------------------


def test_the_record_carries_both_agencies_written_positions(world, resolved_at_stage_five):
    esc = resolved_at_stage_five
    services.record_position(
        esc, by=world.carol, body="The school holds that the new disclosures meet the threshold."
    )
    services.record_position(
        esc, by=world.grace, body="CSC holds that the referral lacked the detail it needed."
    )
    text = squeezed(body_text(render_record_pdf(esc)))
    assert squeezed("Written positions of the agencies").upper() in text.upper()
    school = text.index(squeezed("the new disclosures meet the threshold"))
    csc = text.index(squeezed("the referral lacked the detail it needed"))
    assert school < csc
    assert squeezed("Agency initiating escalation: Meadow School") in text
    assert squeezed("Agency receiving escalation: Northfold Children's Social Care") in text
    assert squeezed("Carol Cole") in text and squeezed("Grace Green") in text
