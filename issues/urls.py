from django.urls import path, register_converter

from issues.models import REFERENCE_PATTERN
from issues.views import (
    capture,
    dashboard,
    exports,
    follow_ups,
    home,
    issue_list,
    issue_page,
    notifications,
)


class ReferenceConverter:
    regex = REFERENCE_PATTERN

    def to_python(self, value: str) -> str:
        return value.upper()

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferenceConverter, "ref")

app_name = "issues"
urlpatterns = [
    path("issues/", issue_list.issue_list, name="list"),
    path("issues/mine/", home.my_issues, name="mine"),
    path("issues/new/", capture.issue_new, name="new"),
    path("issues/bulk/", issue_list.issue_bulk, name="bulk"),
    path("issues/export.csv", exports.export_csv, name="export_csv"),
    path("issues/export.xlsx", exports.export_xlsx, name="export_xlsx"),
    path("issues/new/duplicates/", capture.duplicates, name="duplicates"),
    path("issues/<ref:reference>/", issue_page.issue_detail, name="detail"),
    path("issues/<ref:reference>/created/", capture.issue_created, name="created"),
    path("issues/<ref:reference>/assign/", issue_page.issue_assign, name="assign"),
    path("issues/<ref:reference>/comment/", issue_page.issue_comment, name="comment"),
    path("issues/<ref:reference>/report/", capture.issue_add_report, name="add_report"),
    path("issues/<ref:reference>/mediation/", issue_page.issue_mediation, name="mediation"),
    path("issues/<ref:reference>/phone/", issue_page.reveal_phone, name="reveal_phone"),
    path("issues/<ref:reference>/photos/<int:pk>/<str:size>.jpg", issue_page.photo, name="photo"),
    path("issues/<ref:reference>/<str:action>/", issue_page.issue_transition, name="transition"),
    path("dashboard/", dashboard.dashboard_view, name="dashboard"),
    path("followups/", follow_ups.follow_up_list, name="followups"),
    path("followups/<int:pk>/record/", follow_ups.follow_up_record, name="followup_record"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read/", notifications.notifications_read, name="notifications_read"),
]
