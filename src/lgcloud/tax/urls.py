from django.urls import path

from . import views

app_name = "tax"

urlpatterns = [
    path("", views.assessments, name="assessments"),
    path("template.csv", views.csv_template, name="csv_template"),
    path("<int:fiscal_year>/<str:atena>/", views.assessment, name="assessment"),
    path("<int:fiscal_year>/<str:atena>/notice.pdf", views.notice, name="notice"),
]
