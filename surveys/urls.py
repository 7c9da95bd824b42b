from django.urls import include, path

from . import public_views, setup_views, views

app_name = "surveys"

# Mounted at the site root: the public page /s/<token>/ and the team's pages under /surveys/.
team_pages = [
    path("", views.results, name="results"),
    path("answers.csv", views.export, name="export"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_new, name="campaign_new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/cancel/", views.campaign_cancel_view, name="campaign_cancel"),
    path("triggers/<slug:trigger>/", views.trigger_save, name="trigger_save"),
    path("forms/", setup_views.survey_list, name="surveys"),
    path("forms/new/", setup_views.survey_new, name="survey_new"),
    path("forms/<str:name>/", setup_views.survey_edit, name="survey_edit"),
    path("forms/<str:name>/preview/", setup_views.survey_preview, name="survey_preview"),
    path("suggestions/", setup_views.suggestion_list, name="suggestions"),
    path("suggestions/<int:pk>/", setup_views.suggestion_detail, name="suggestion_detail"),
    path("suggestions/<int:pk>/merge/", setup_views.suggestion_merge, name="suggestion_merge"),
    path("follow-ups/<int:pk>/log/", setup_views.followup_log, name="followup_log"),
]

urlpatterns = [
    path("s/<str:token>/", public_views.answer, name="answer"),
    path("surveys/", include(team_pages)),
]
