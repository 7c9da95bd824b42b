from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from . import touchpoint_views, views
from .docs import api_docs

app_name = "api"

# Path converters rather than regular expressions (ids are <int:pk>), and no ".json" suffixes:
# JSON is the only format.
router = DefaultRouter(trailing_slash=True, use_regex_path=False)
router.include_format_suffixes = False
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("key-dates", views.KeyDateViewSet, basename="key-date")
router.register("purchases", views.PurchaseViewSet, basename="purchase")
router.register("touchpoints", touchpoint_views.TouchpointViewSet, basename="touchpoint")
router.register("promises", touchpoint_views.PromiseViewSet, basename="promise")
router.register("complaints", touchpoint_views.ComplaintViewSet, basename="complaint")
router.register("survey-responses", views.SurveyResponseViewSet, basename="survey-response")
router.register("health", views.HealthViewSet, basename="health")

urlpatterns = [
    path("v1/", include(router.urls)),
    # The schema and its docs are public, like any API's documentation; the data behind it is not.
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", api_docs, name="docs"),
]
