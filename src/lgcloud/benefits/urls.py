from django.urls import path

from . import views

app_name = "benefits"

urlpatterns = [
    path("programmes/", views.programmes, name="programmes"),
    path("programmes/<str:code>/", views.programme, name="programme"),
    path("programmes/<str:code>/batches/<int:batch_number>/file", views.batch_file, name="batch_file"),
    path("child-allowance/", views.cases, name="cases"),
    path("child-allowance/<int:number>/", views.case, name="case"),
    path("child-allowance/<int:number>/<str:what>/", views.case_action, name="case_action"),
]
