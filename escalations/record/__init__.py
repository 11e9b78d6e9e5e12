"""The Professional Difference Escalation Record (SPEC section 8): the PDF, frozen copies.

Entry points: render_record_pdf(escalation) -> bytes (also importable from this package);
services.record_copies_for(escalation) and the template record/_copies.html for the escalation
page; the download views; the freeze_due_records task; `manage.py render_record`.
"""


def __getattr__(name):
    # Lazy, so loading the app does not import models (and WeasyPrint) before Django is ready.
    if name == "render_record_pdf":
        from escalations.record.render import render_record_pdf

        return render_record_pdf
    raise AttributeError(name)
