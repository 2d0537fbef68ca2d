"""Support pages (tickets), namespace ``support``."""

from django.urls import path

from support import views

app_name = "support"
urlpatterns = [
    path("tickets/", views.tickets, name="tickets"),
    path("tickets/new/", views.ticket_create, name="ticket_create"),
    path("tickets/<id:pk>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<id:pk>/close/", views.ticket_close, name="ticket_close"),
]
