from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from customers import views as customer_views
from touchpoints.urls import root_urlpatterns as touchpoint_pages

from . import views
from .ratelimit import rate_limited

# The public pages reached from an email are rate-limited per client (the survey's in its own URLs).
public_rate_limited = rate_limited("public", limit=lambda: settings.PUBLIC_RATE_LIMIT_PER_MINUTE)

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True),
         name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    path("healthz", views.healthz, name="healthz"),
    path("today/", views.today, name="today"),
    path("today/<str:username>/", views.today, name="today_of"),
    path("records/", views.records, name="records"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/", include("customers.urls")),
    path("touchpoints/", include("touchpoints.urls")),
    path("", include(touchpoint_pages)),
    path("u/<str:token>/", public_rate_limited(customer_views.unsubscribe), name="unsubscribe"),
    path("", include("surveys.urls")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "Retention administration"
admin.site.site_title = "Retention admin"
