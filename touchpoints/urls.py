from django.urls import path

from . import views

app_name = "touchpoints"

urlpatterns = [
    path("customers/<int:customer_pk>/log/", views.touchpoint_new, name="new"),
    path("<int:pk>/edit/", views.touchpoint_edit, name="edit"),
    path("<int:pk>/delete/", views.touchpoint_delete_view, name="delete"),
    path("follow-ups/<int:pk>/close/", views.followup_done, name="followup_close"),
]
