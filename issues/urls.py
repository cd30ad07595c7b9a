from django.urls import path, register_converter

from issues import views
from issues.models import REFERENCE_PATTERN


class ReferenceConverter:
    regex = REFERENCE_PATTERN

    def to_python(self, value: str) -> str:
        return value.upper()

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferenceConverter, "ref")

app_name = "issues"
urlpatterns = [
    path("issues/", views.issue_list, name="list"),
    path("issues/mine/", views.my_issues, name="mine"),
    path("issues/new/", views.issue_new, name="new"),
    path("issues/bulk/", views.issue_bulk, name="bulk"),
    path("issues/export.csv", views.export_csv, name="export_csv"),
    path("issues/export.xlsx", views.export_xlsx, name="export_xlsx"),
    path("issues/new/duplicates/", views.duplicates, name="duplicates"),
    path("issues/<ref:reference>/", views.issue_detail, name="detail"),
    path("issues/<ref:reference>/created/", views.issue_created, name="created"),
    path("issues/<ref:reference>/assign/", views.issue_assign, name="assign"),
    path("issues/<ref:reference>/comment/", views.issue_comment, name="comment"),
    path("issues/<ref:reference>/mediation/", views.issue_mediation, name="mediation"),
    path("issues/<ref:reference>/phone/", views.reveal_phone, name="reveal_phone"),
    path("issues/<ref:reference>/photos/<int:pk>/<str:size>.jpg", views.photo, name="photo"),
    path("issues/<ref:reference>/<str:action>/", views.issue_transition, name="transition"),
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("followups/", views.follow_up_list, name="followups"),
    path("followups/<int:pk>/record/", views.follow_up_record, name="followup_record"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
]
