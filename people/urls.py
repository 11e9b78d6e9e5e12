"""/manage/partnerships/<slug>/... for a partnership's administrators, /manage/agencies/<id>/...
for an agency's safeguarding leads: the same pages, each scope allowing what it may do
(people.scope). /invitation/<secret>/ is the invitee's link."""

from django.urls import include, path

from people.views import account, handover, imports, invitations, notices, partnership, people

scope_pages = [
    path("", partnership.overview),
    path("people/", people.people_list),
    path("people/export.<str:fmt>", people.export),
    path("people/import/", imports.import_people),
    path("people/<int:pk>/", people.person_page),
    path("people/<int:pk>/edit/", people.person_edit),
    path("people/<int:pk>/roles/add/", people.role_add),
    path("people/<int:pk>/roles/<int:membership_id>/remove/", people.role_remove),
    path("people/<int:pk>/leaver/", people.leaver),
    path("people/<int:pk>/pass-on/", handover.pass_on),
    path("people/<int:pk>/second-factor/", people.second_factor),
    path("invite/", invitations.invite),
    path("invitations/", invitations.invitation_list),
    path("invitations/<int:pk>/send-again/", invitations.invitation_renew),
    path("invitations/<int:pk>/withdraw/", invitations.invitation_cancel),
    path("agencies/", partnership.agencies),
    path("agencies/new/", partnership.agency_form),
    path("agencies/<int:pk>/", partnership.agency_form),
    path("closure-days/", partnership.closure_days),
    path("closure-days/<int:pk>/remove/", partnership.closure_day_remove),
    path("directory/", partnership.directory),
    path("directory/new/", partnership.directory_form),
    path("directory/<int:pk>/", partnership.directory_form),
    path("directory/<int:pk>/remove/", partnership.directory_remove),
    path("undelivered-notices/", notices.undelivered_list),
    path("undelivered-notices/<int:pk>/send-again/", notices.send_again),
]

urlpatterns = [
    path("account/", account.my_account, name="account"),
    path("account/work-phone/", account.work_phone, name="account-work-phone"),
    path("manage/", partnership.start, name="manage"),
    path("manage/partnerships/<slug:key>/", include(scope_pages), {"kind": "partnership"}),
    path("manage/agencies/<int:key>/", include(scope_pages), {"kind": "agency"}),
    path("invitation/<str:token>/", invitations.accept, name="invitation"),
    path("invitation/<str:token>/ask-again/", invitations.ask_again),
]
