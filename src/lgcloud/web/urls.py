from django.urls import path

from . import job_views, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/mfa/", views.login_mfa, name="login_mfa"),
    path("logout/", views.logout_view, name="logout"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/<int:staff_id>/", views.staff_detail, name="staff_detail"),
    path("tokens/", views.tokens, name="tokens"),
    path("audit/", views.audit_log, name="audit_log"),
    path("operator/municipalities/", views.operator_municipalities, name="operator_municipalities"),
    path("operator/municipalities/<str:lg_code>/", views.operator_municipality, name="operator_municipality"),
    path("operator/health/", views.operator_health, name="operator_health"),
    path("jobs/", job_views.job_list, name="jobs"),
    path("jobs/<int:job_id>/", job_views.job_detail, name="job"),
]
