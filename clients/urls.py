from django.urls import path

from clients import views

app_name = "clients"

urlpatterns = [
    path("agenda/", views.agenda, name="agenda"),
    path("clients/", views.ClientListView.as_view(), name="client_list"),
    path("clients/new/", views.ClientCreateView.as_view(), name="client_create"),
    path("clients/reassign/", views.clients_reassign, name="client_reassign"),
    path("clients/<int:pk>/", views.client_detail, name="client_detail"),
    path("clients/<int:pk>/edit/", views.ClientUpdateView.as_view(), name="client_edit"),
    path("clients/<int:pk>/purchases/new/", views.purchase_create, name="purchase_create"),
    path("clients/<int:pk>/purchases/<int:purchase_pk>/edit/", views.purchase_edit, name="purchase_edit"),
    path("clients/<int:pk>/purchases/<int:purchase_pk>/delete/", views.purchase_delete, name="purchase_delete"),
    path("clients/<int:pk>/interactions/new/", views.interaction_create, name="interaction_create"),
    path("clients/<int:pk>/followups/new/", views.followup_create, name="followup_create"),
]
