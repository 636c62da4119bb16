from django.urls import path

from . import views

app_name = "procedures"

urlpatterns = [
    # 住民向けポータル
    path("portal/display/", views.preferences, name="preferences"),
    path("portal/callback/", views.oidc_callback, name="oidc_callback"),
    path("portal/<str:lg_code>/", views.portal_home, name="portal_home"),
    path("portal/<str:lg_code>/help/", views.portal_help, name="portal_help"),
    path("portal/<str:lg_code>/login/", views.portal_login, name="portal_login"),
    path("portal/<str:lg_code>/logout/", views.portal_logout, name="portal_logout"),
    path("portal/<str:lg_code>/procedures/<str:code>/", views.procedure_page, name="procedure"),
    path("portal/<str:lg_code>/procedures/<str:code>/paper.pdf", views.paper_form, name="paper_form"),
    path("portal/<str:lg_code>/submissions/<int:number>/", views.submission_page, name="submission"),
    path("portal/<str:lg_code>/access-log/", views.access_log, name="access_log"),
    path("portal/<str:lg_code>/access-log/<int:entry_id>/proof.json", views.access_log_proof, name="access_log_proof"),
    # 職員: 審査・窓口での代理入力
    path("procedures/review/", views.review_queue, name="review_queue"),
    path("procedures/review/<int:number>/", views.review_detail, name="review_detail"),
    path(
        "procedures/review/<int:number>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="attachment",
    ),
    path("procedures/counter/", views.counter_start, name="counter_start"),
    path("procedures/counter/<str:code>/<str:atena>/", views.counter_form, name="counter_form"),
    path("procedures/counter/<str:code>/<str:atena>/paper.pdf", views.counter_paper, name="counter_paper"),
]
