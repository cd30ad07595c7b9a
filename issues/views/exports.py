"""The issue list's current filter as CSV or XLSX, with the screen's privacy rules."""

from __future__ import annotations

from django.http import (
    FileResponse,
    HttpResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from grassroots.http import AuthedRequest
from issues import exports
from issues.filters import (
    IssueFilter,
)
from issues.models import (
    Issue,
)


def _export_name(ext: str) -> str:
    return f"issues-{timezone.localtime():%Y%m%d-%H%M}.{ext}"


@require_GET
def export_csv(request: AuthedRequest) -> HttpResponseBase:
    f = IssueFilter(request.GET, queryset=Issue.objects.visible_to(request.user), user=request.user)
    if not f.is_valid():
        return HttpResponse(_("Some filters are not valid."), status=400)
    response = StreamingHttpResponse(
        exports.csv_stream(request.user, f.qs), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_name("csv")}"'
    return response


@require_GET
def export_xlsx(request: AuthedRequest) -> HttpResponseBase:
    f = IssueFilter(request.GET, queryset=Issue.objects.visible_to(request.user), user=request.user)
    if not f.is_valid():
        return HttpResponse(_("Some filters are not valid."), status=400)
    return FileResponse(
        exports.xlsx_file(request.user, f.qs),
        as_attachment=True,
        filename=_export_name("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
