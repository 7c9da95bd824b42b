from django.urls import path

from . import import_views, views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_new, name="new"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/archive/", views.customer_archive_view, name="archive"),
    path("<int:pk>/restore/", views.customer_restore_view, name="restore"),
    path("<int:pk>/contacts/new/", views.contact_new, name="contact_new"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("reassign/", views.customer_reassign, name="reassign"),
    path("referrers/", views.referrers, name="referrers"),
    path("<int:pk>/purchases/new/", views.purchase_new, name="purchase_new"),
    path("purchases/<int:pk>/delete/", views.purchase_delete_view, name="purchase_delete"),
    path("<int:pk>/key-dates/new/", views.key_date_new, name="key_date_new"),
    path("key-dates/<int:pk>/edit/", views.key_date_edit, name="key_date_edit"),
    path("key-dates/<int:pk>/delete/", views.key_date_delete_view, name="key_date_delete"),
    path("import/", import_views.customer_import, name="import"),
    path("import/example.csv", import_views.customer_import_example, name="import_example"),
    path("import/<int:pk>/map/", import_views.customer_import_map, name="import_map"),
    path("import/<int:pk>/", import_views.customer_import_preview, name="import_preview"),
    path("import/<int:pk>/confirm/", import_views.customer_import_confirm, name="import_confirm"),
    path("import/<int:pk>/not-imported.csv", import_views.customer_import_rejects,
         name="import_rejects"),
    path("import/mappings/", import_views.import_mappings, name="import_mappings"),
    path("import/mappings/<int:pk>/delete/", import_views.import_mapping_delete_view,
         name="import_mapping_delete"),
    path("export/", views.customer_export, name="export"),
]
