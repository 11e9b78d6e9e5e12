from django.urls import path

from escalations.views import (
    account,
    actions,
    detail,
    directory,
    home,
    lead,
    outcome_requests,
    raise_,
)

urlpatterns = [
    path("", home.home, name="home"),
    path("sign-in/", account.sign_in, name="sign-in"),
    path("sign-out/", account.sign_out, name="sign-out"),
    path("sign-in/reset/", account.password_reset, name="password-reset"),
    path("sign-in/reset/sent/", account.password_reset_sent, name="password-reset-sent"),
    path("sign-in/reset/done/", account.password_reset_complete, name="password-reset-complete"),
    path(
        "sign-in/reset/<uidb64>/<token>/",
        account.password_reset_confirm,
        name="password-reset-confirm",
    ),
    path("approvals/", lead.approvals, name="approvals"),
    path("agency/escalations/", lead.agency_escalations, name="agency-escalations"),
    path("directory/", directory.directory, name="directory"),
    # The partnership asks an agency for its step 2-3 outcomes; the agency's lead answers.
    path(
        "partnerships/<slug:slug>/outcome-requests/",
        outcome_requests.ask,
        name="outcome-requests",
    ),
    path("outcome-requests/<int:pk>/", outcome_requests.answer, name="outcome-request-answer"),
    path("raise/", raise_.start, name="raise-start"),
    path("raise/drafts/<int:draft_id>/", raise_.resume, name="raise-resume"),
    path("raise/drafts/<int:draft_id>/check/", raise_.check, name="raise-check"),
    path("raise/drafts/<int:draft_id>/delete/", raise_.delete, name="raise-delete"),
    path("raise/drafts/<int:draft_id>/saved/", raise_.saved, name="raise-saved"),
    path("raise/drafts/<int:draft_id>/<slug:slug>/", raise_.question, name="raise-question"),
    path("escalations/<str:reference>/", detail.escalation_page, name="escalation"),
    path("escalations/<str:reference>/raised/", raise_.confirmation, name="raise-confirmation"),
    path(
        "escalations/<str:reference>/actions/<int:action_id>/done/",
        actions.mark_action_done,
        name="mark-action-done",
    ),
    path("escalations/<str:reference>/<slug:action>/", actions.act, name="escalation-action"),
]
