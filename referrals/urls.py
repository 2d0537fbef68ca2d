from django.urls import path

from referrals import views

app_name = "referrals"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("codes/", views.code_create, name="code_create"),
    path("codes/<id:pk>/activate/", views.code_activate, name="code_activate"),
    path("codes/<id:pk>/deactivate/", views.code_deactivate, name="code_deactivate"),
    path("codes/<id:pk>/delete/", views.code_delete, name="code_delete"),
]
