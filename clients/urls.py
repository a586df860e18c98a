from django.urls import path

from clients import export_views, feeds, share_views, trash_views, views

app_name = "clients"

urlpatterns = [
    path("agenda/", views.agenda, name="agenda"),
    path("agenda/followups/<int:pk>/complete/", views.followup_complete, name="followup_complete"),
    path("agenda/calendar/", feeds.calendar_feed_manage, name="calendar_feed_manage"),
    path("calendar/<slug:token>.ics", feeds.calendar_feed, name="calendar_feed"),
    path("clients/", views.ClientListView.as_view(), name="client_list"),
    path("clients/export.<str:fmt>/", export_views.client_list_export, name="client_list_export"),
    path("clients/new/", views.ClientCreateView.as_view(), name="client_create"),
    path("clients/reassign/", views.clients_reassign, name="client_reassign"),
    path("clients/trash/", trash_views.trash_list, name="client_trash"),
    path("clients/<int:pk>/delete/", trash_views.client_delete, name="client_delete"),
    path("clients/<int:pk>/restore/", trash_views.client_restore_view, name="client_restore"),
    path("clients/<int:pk>/", views.client_detail, name="client_detail"),
    path("clients/<int:pk>/edit/", views.ClientUpdateView.as_view(), name="client_edit"),
    path("clients/<int:pk>/share/", share_views.client_share, name="client_share"),
    path("clients/<int:pk>/unshare/", share_views.client_unshare, name="client_unshare"),
    path("clients/<int:pk>/purchases/new/", views.purchase_create, name="purchase_create"),
    path("clients/<int:pk>/purchases/<int:purchase_pk>/edit/", views.purchase_edit, name="purchase_edit"),
    path("clients/<int:pk>/purchases/<int:purchase_pk>/delete/", views.purchase_delete, name="purchase_delete"),
    path("clients/<int:pk>/interactions/new/", views.interaction_create, name="interaction_create"),
    path("clients/<int:pk>/followups/new/", views.followup_create, name="followup_create"),
]
