from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from customers import audit_views
from customers import views as customer_views
from touchpoints.urls import root_urlpatterns as touchpoint_pages

from . import views
from .api import token_views
from .dashboard import views as dashboard
from .health import views as health
from .ratelimit import rate_limited

# The public pages reached from an email are rate-limited per client (the survey's in its own URLs);
# so are the login and the password reset, where repeated failures also lock out (django-axes).
public_rate_limited = rate_limited("public", limit=lambda: settings.PUBLIC_RATE_LIMIT_PER_MINUTE)
login_rate_limited = rate_limited("login", limit=lambda: settings.LOGIN_RATE_LIMIT_PER_MINUTE)

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/",
         login_rate_limited(auth_views.LoginView.as_view(redirect_authenticated_user=True)), name="login"),
    path("accounts/password/reset/", login_rate_limited(auth_views.PasswordResetView.as_view()),
         name="password_reset"),
    path("accounts/password/reset/sent/", auth_views.PasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path("accounts/password/reset/<uidb64>/<token>/",
         login_rate_limited(auth_views.PasswordResetConfirmView.as_view()), name="password_reset_confirm"),
    path("accounts/password/reset/done/", auth_views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("today/", views.today, name="today"),
    path("today/all/<slug:section>/", views.today_all, name="today_all"),
    path("today/<str:username>/", views.today, name="today_of"),
    path("records/", views.records, name="records"),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/profile/tokens/new/", token_views.token_create, name="api_token_create"),
    path("accounts/profile/tokens/<int:pk>/revoke/", token_views.token_revoke, name="api_token_revoke"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/export/<slug:name>.csv", dashboard.dashboard_export, name="dashboard_export"),
    path("dashboard/customers/<int:pk>/task/", dashboard.owner_task, name="dashboard_task"),
    path("dashboard/customers/<int:pk>/reassign/", dashboard.customer_reassign,
         name="dashboard_reassign"),
    path("health/weights/", health.weights_page, name="health_weights"),
    path("health/weights/preview/", health.weights_preview_view, name="health_weights_preview"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/health/override/", health.override_page, name="health_override"),
    path("customers/<int:pk>/health/override/remove/", health.override_remove,
         name="health_override_remove"),
    path("customers/<int:pk>/health.csv", health.history_csv, name="health_history_csv"),
    path("customers/", include("customers.urls")),
    path("touchpoints/", include("touchpoints.urls")),
    path("", include(touchpoint_pages)),
    path("u/<str:token>/", public_rate_limited(customer_views.unsubscribe), name="unsubscribe"),
    path("", include("surveys.urls")),
    path("api/", include("retention.api.urls")),
    path("webhooks/", include("retention.webhooks.urls")),
    path("calendar/", include("retention.feeds.urls")),
    path("audit/", audit_views.audit_log, name="audit_log"),
    path("audit/export/", audit_views.audit_export, name="audit_export"),
    path("admin/", admin.site.urls),
]

# Under /api/ what no view answers is JSON too.
handler400 = "retention.api.errors.bad_request"
handler404 = "retention.api.errors.page_not_found"
handler500 = "retention.api.errors.server_error"

admin.site.site_header = "Retention administration"
admin.site.site_title = "Retention admin"
