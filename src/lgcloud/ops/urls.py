from django.urls import path

from . import opendata_views, public_views, usage_views, views

app_name = "ops"

urlpatterns = [
    path("operator/health/", views.operator_health, name="health"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/<int:job_id>/", views.job_detail, name="job"),
    # 団体管理者: its own municipality
    path("usage/", usage_views.usage, name="usage"),
    path("usage/<str:month>/report.csv", usage_views.usage_csv, name="usage_csv"),
    path("usage/<str:month>/report.pdf", usage_views.usage_pdf, name="usage_pdf"),
    path("service/", usage_views.service_view, name="service"),
    path("opendata/manage/", opendata_views.manage, name="opendata_manage"),
    path("opendata/manage/<int:number>/", opendata_views.release_detail, name="opendata_release"),
    # 運用者: every municipality
    path("operator/usage/", usage_views.operator_usage, name="operator_usage"),
    path("operator/usage/<str:lg_code>/", usage_views.operator_usage_detail, name="operator_usage_detail"),
    path("operator/service/", usage_views.operator_service, name="operator_service"),
    # Public: the price list, the 公共SaaS requirements, the open data
    path("pricing/", public_views.pricing, name="pricing"),
    path("saas/", public_views.saas, name="saas"),
    path("opendata/", opendata_views.index, name="opendata_index"),
    path("opendata/<str:lg_code>/", opendata_views.municipality_releases, name="opendata_municipality"),
    path(
        "opendata/<str:lg_code>/<int:number>/<str:table>.<str:fmt>",
        opendata_views.table_file,
        name="opendata_file",
    ),
]
