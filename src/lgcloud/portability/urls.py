from django.urls import path

from . import views

app_name = "portability"

urlpatterns = [
    path("exports/", views.export_list, name="export_list"),
    path("exports/new/", views.export_new, name="export_new"),
    path("exports/<int:request_id>/", views.export_detail, name="export_detail"),
]
