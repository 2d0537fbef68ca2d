from django.urls import path

from mailings import views

app_name = "mailings"
urlpatterns = [
    path("telegram/webhook/", views.telegram_webhook, name="telegram_webhook"),
    path("vk/callback/", views.vk_callback, name="vk_callback"),
]
