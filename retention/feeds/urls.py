from django.conf import settings
from django.urls import path

from retention.ratelimit import rate_limited

from . import views

app_name = "feeds"

# The feed is public (its token is the secret): rate-limited per client like the other public pages.
feed_rate_limited = rate_limited("calendar", limit=lambda: settings.PUBLIC_RATE_LIMIT_PER_MINUTE)

urlpatterns = [
    path("<str:token>.ics", feed_rate_limited(views.feed), name="feed"),
    path("address/", views.address, name="address"),
    path("off/", views.turn_off, name="off"),
]
