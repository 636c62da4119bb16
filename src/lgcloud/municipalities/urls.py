from django.urls import path

from . import views

app_name = "municipalities"

urlpatterns = [
    path("operator/municipalities/", views.operator_municipalities, name="operator_list"),
    path("operator/municipalities/<str:lg_code>/", views.operator_municipality, name="operator_detail"),
    path("apps/", views.apps, name="apps"),
    path("operator/apps/", views.operator_apps, name="operator_apps"),
]
