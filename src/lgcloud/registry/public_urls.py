"""Pages of 住民記録 anyone may open (no sign-in, no personal data), served from the site's root."""

from django.urls import path

from . import public_views

urlpatterns = [
    path("verify/<str:code>/", public_views.verify, name="certificate_verify"),
]
