from django.urls import path

from grids import views

app_name = "grids"
urlpatterns = [
    path("courtyards/", views.courtyard_list, name="courtyards"),
    path("courtyards/<int:pk>/", views.courtyard_detail, name="courtyard"),
    path("patrols/", views.patrol_list, name="patrols"),
    path("patrols/start/", views.patrol_start, name="patrol_start"),
    path("patrols/<int:pk>/", views.patrol_detail, name="patrol"),
    path("patrols/<int:pk>/end/", views.patrol_end, name="patrol_end"),
]
