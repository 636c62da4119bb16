from django.urls import path

from . import views

app_name = "ops"

urlpatterns = [
    path("operator/health/", views.operator_health, name="health"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/<int:job_id>/", views.job_detail, name="job"),
]
