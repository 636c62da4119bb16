from django.urls import path

from . import views

app_name = "registry"

urlpatterns = [
    path("", views.search, name="search"),
    path("persons/<str:atena>/", views.person, name="person"),
    path("persons/<str:atena>/as-of/", views.as_of, name="as_of"),
    path("persons/<str:atena>/individual-number/", views.reveal_number, name="reveal_number"),
    path("households/<str:number>/", views.household, name="household"),
    # 異動
    path("changes/move-in/", views.move_in, name="move_in"),
    path("changes/ex-officio-entry/", views.ex_officio_entry, name="ex_officio_entry"),
    path("persons/<str:atena>/birth/", views.birth, name="birth"),
    path("persons/<str:atena>/death/", views.death, name="death"),
    path("persons/<str:atena>/move-out/", views.move_out, name="move_out"),
    path("persons/<str:atena>/confirm-move-out/", views.confirm_move_out, name="confirm_move_out"),
    path("persons/<str:atena>/address-change/", views.address_change, name="address_change"),
    path("persons/<str:atena>/household/", views.household_change, name="household_change"),
    path("persons/<str:atena>/name-change/", views.name_change, name="name_change"),
    path("persons/<str:atena>/correction/", views.correction, name="correction"),
    path("persons/<str:atena>/removal/", views.removal, name="removal"),
    path("persons/<str:atena>/restoration/", views.restoration, name="restoration"),
    # 一覧・支援措置
    path("late-filings/", views.late_filings, name="late_filings"),
    path("protections/", views.protections, name="protections"),
    path("persons/<str:atena>/protection/", views.protection, name="protection"),
    # 証明書の交付
    path("persons/<str:atena>/certificate/", views.certificate, name="certificate"),
]
