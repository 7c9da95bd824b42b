"""The touchpoints app's URLs, and the Programs and Outbox pages that live at the site root."""

from django.urls import path

from . import views
from .messaging import views as messaging

app_name = "touchpoints"

urlpatterns = [
    path("customers/<int:customer_pk>/log/", views.touchpoint_new, name="new"),
    path("<int:pk>/edit/", views.touchpoint_edit, name="edit"),
    path("<int:pk>/delete/", views.touchpoint_delete_view, name="delete"),
    path("follow-ups/<int:pk>/close/", views.followup_done, name="followup_close"),
    path("customers/<int:customer_pk>/quick-log/", views.touchpoint_quick_new, name="quick_log"),
    path("customers/<int:customer_pk>/snooze/", views.checkin_snooze_view, name="snooze"),
    path("customers/<int:customer_pk>/promises/new/", views.promise_new, name="promise_new"),
    path("promises/<int:pk>/close/", views.promise_close_view, name="promise_close"),
    path("customers/<int:customer_pk>/complaints/new/", views.complaint_new, name="complaint_new"),
    path("complaints/<int:pk>/acknowledge/", views.complaint_acknowledge_view,
         name="complaint_acknowledge"),
    path("complaints/<int:pk>/resolve/", views.complaint_resolve_view, name="complaint_resolve"),
    path("complaints/<int:pk>/close/", views.complaint_close_view, name="complaint_close"),
    path("<int:pk>/notes/", views.meeting_notes, name="meeting_notes"),
    path("<int:pk>/notes/not-needed/", views.meeting_notes_not_needed_view,
         name="meeting_notes_not_needed"),
]

# Pages at the site root (retention/urls.py mounts these without the "touchpoints/" prefix):
# the automated programs for admins and the outbox for managers (touchpoints/messaging/views.py).
root_urlpatterns = [
    path("programs/", messaging.program_list, name="programs"),
    path("programs/<slug:key>/", messaging.program_edit, name="program_edit"),
    path("programs/<slug:key>/switch/", messaging.program_switch, name="program_switch"),
    path("programs/<slug:key>/preview/", messaging.program_preview_view, name="program_preview"),
    path("programs/<slug:key>/preview/customers/", messaging.program_preview_customers,
         name="program_preview_customers"),
    path("outbox/", messaging.outbox_list, name="outbox"),
    path("outbox/<int:pk>/", messaging.outbox_detail, name="outbox_detail"),
    path("outbox/<int:pk>/retry/", messaging.outbox_retry_view, name="outbox_retry"),
]
