"""Support pages (tickets), namespace ``support``."""

from django.urls import path

from support import views

app_name = "support"
urlpatterns = [
    path("tickets/", views.tickets, name="tickets"),
    path("tickets/new/", views.ticket_create, name="ticket_create"),
    path("tickets/<id:pk>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<id:pk>/close/", views.ticket_close, name="ticket_close"),
    path("tickets/<id:pk>/messages/", views.ticket_reply, name="ticket_reply"),
    path(
        "tickets/<id:pk>/messages/<id:message_pk>/attachment/",
        views.message_attachment,
        name="message_attachment",
    ),
    path("support/appeal/", views.appeal, name="appeal"),
]
