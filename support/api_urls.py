"""Support endpoints under /api/v1/."""

from django.urls import path

from support import api

urlpatterns = [
    path("tickets/", api.TicketListCreateView.as_view(), name="ticket-list"),
    path("tickets/<id:pk>/", api.TicketDetailView.as_view(), name="ticket-detail"),
    path("tickets/<id:pk>/messages/", api.TicketMessageListCreateView.as_view(), name="ticket-messages"),
]
