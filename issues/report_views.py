"""The capture form's shortcut: a further resident's report added to an issue already logged."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from grassroots.http import AuthedRequest
from issues import services
from issues.forms import CaptureForm
from issues.models import Issue
from issues.services import TransitionRefused
from issues.views import _acting_issue, capture_page


@require_POST
def issue_add_report(request: AuthedRequest, reference: str) -> HttpResponse:
    """The whole capture form, posted to an open issue it duplicates: the resident's name,
    phone, photos and words join that issue; on a refusal the form comes back as typed."""
    issue = _acting_issue(request, reference)
    form = CaptureForm(request.POST, request.FILES, user=request.user, adding=True)
    if form.is_valid():
        data = form.cleaned_data
        try:
            _event, _created = services.add_reporter_to_issue(
                issue,
                by=request.user,
                name=data["resident_name"],
                phone=data["resident_phone"],
                words=form.residents_words(),
                photos=data["photos"],
                source=data["source"] or Issue.Source.VISIT,
                submission_token=data["token"],
            )
        except TransitionRefused as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _added_message(issue, len(data["photos"])))
            return redirect("issues:created", reference=issue.reference)
    return capture_page(request, form)


def _added_message(issue: Issue, photos: int) -> str:
    if photos:
        return ngettext(
            "The resident's report was added to %(ref)s, with %(n)d photo.",
            "The resident's report was added to %(ref)s, with %(n)d photos.",
            photos,
        ) % {"ref": issue.reference, "n": photos}
    return _("The resident's report was added to %(ref)s.") % {"ref": issue.reference}
