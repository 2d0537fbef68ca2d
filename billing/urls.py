from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path("", views.balance, name="balance"),
    path("topup/", views.topup, name="topup"),
    path("plans/", views.plans, name="plans"),
    path("subscribe/<id:organization_pk>/", views.subscribe, name="subscribe"),
    path("subscriptions/", views.subscriptions, name="subscriptions"),
    path("subscriptions/<id:pk>/cancel/", views.subscription_cancel, name="subscription_cancel"),
    path("payments/<id:pk>/status/", views.payment_status, name="payment_status"),
    path("robokassa/result/", views.robokassa_result, name="robokassa_result"),
    path("robokassa/success/", views.robokassa_success, name="robokassa_success"),
    path("robokassa/fail/", views.robokassa_fail, name="robokassa_fail"),
]
