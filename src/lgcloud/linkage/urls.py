from django.urls import path

from . import views

app_name = "linkage"

urlpatterns = [
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<int:delivery_id>/redeliver/", views.redeliver, name="redeliver"),
    path("transfers/", views.transfers, name="transfers"),
    path("transfers/<str:transfer_id>/", views.transfer, name="transfer"),
]
