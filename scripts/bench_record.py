"""Median time to render the escalation record of an escalation with 20 events and 10 actions.

    .venv/bin/python scripts/bench_record.py [--runs 15]

Builds the invented personas and one escalation in an in-memory SQLite database (nothing is
written anywhere), then renders its record repeatedly through render_record_pdf: loading
the record (queries), the template, and WeasyPrint in its time-limited child. Target: under
0.5 s. Prints figures; asserts nothing about them.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "escalation_portal.settings_test"
os.environ["DATABASE_URL"] = "sqlite://:memory:"


def build_escalation():
    from escalations import services
    from escalations.services import ActionItem
    from tests.personas import build_world

    world = build_world()
    esc = world.raise_kirklees()  # drafted, raised
    services.escalate(esc, by=world.alice, reason="No reply from CSC after the discussion.")
    services.approve(esc, by=world.carol, comments="Agreed: put it in writing.")
    for _ in range(4):  # to stage 6
        esc.refresh_from_db()
        by = world.dan if esc.stage.number >= 4 else world.bob
        services.escalate(esc, by=by, reason=f"Still unresolved at stage {esc.stage.number}.")
    services.record_response(esc, by=world.erin, summary="CSC has reviewed the referral.")
    services.record_position(esc, by=world.carol, body="The school's position, in writing.")
    services.record_position(esc, by=world.grace, body="CSC's position, in writing.")
    for i in range(8):
        services.add_note(esc, by=world.bob, body=f"Discussion {i + 1} with CSC, recorded.")
    services.resolve(
        esc,
        by=world.ivan,
        category="partly_upheld",
        summary="The referral is reopened and a strategy discussion held.",
        raiser_satisfied=True,
        actions=[
            ActionItem(
                f"Action {i + 1}: write to the family", f"Owner {i + 1}", date(2026, 12, 1 + i)
            )
            for i in range(10)
        ],
    )
    esc.refresh_from_db()
    return esc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from escalations.record import engine
    from escalations.record.render import (
        load_for_record,
        record_form,
        render_form_pdf,
        render_record_pdf,
    )

    escalation = build_escalation()
    events, actions = escalation.events.count(), escalation.actions.count()
    engine.warm_up()
    render_record_pdf(escalation)  # the first render in a process loads fonts: not counted

    totals, weasy, cpu = [], [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        fresh = load_for_record(type(escalation)(pk=escalation.pk))
        rendered = render_form_pdf(record_form(fresh))
        totals.append(time.perf_counter() - started)
        weasy.append(rendered.seconds)
        cpu.append(rendered.cpu_seconds)
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(rendered.pdf)).pages)
    print(f"record of {escalation.reference}: {events} events, {actions} actions, {pages} pages")
    print(
        f"render_record_pdf median {statistics.median(totals):.3f} s "
        f"(min {min(totals):.3f}, max {max(totals):.3f}, {args.runs} runs; target < 0.5 s)"
    )
    print(
        f"  of which WeasyPrint in the child: median {statistics.median(weasy):.3f} s wall, "
        f"{statistics.median(cpu):.3f} s CPU"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
