from __future__ import annotations

import unicodedata
import uuid
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grassroots.widgets import IsoDateInput
from grids.access import assignable_users
from grids.models import Courtyard, Patrol, person_name
from issues.models import Category, FollowUp, Issue, Mediation, Urgency, one_line
from issues.photos import CleanPhoto, check_photo, clean_photo

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_PHOTOS = 6


class PhoneField(forms.CharField):
    """A phone number as typed on a Chinese keyboard: full-width digits and dashes become ASCII
    (NFKC), spaces are dropped; the model's validator then accepts only ASCII digits."""

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        return unicodedata.normalize("NFKC", value).replace(" ", "")


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        # The limits the server checks, read when drawn: the browser refuses the same (app.js).
        limits = {"data-max-bytes": settings.MAX_PHOTO_BYTES, "data-max-count": MAX_PHOTOS}
        return super().get_context(name, value, {**(attrs or {}), **limits})


class MultiplePhotoField(forms.FileField):
    """Up to MAX_PHOTOS images; each is checked by content and re-encoded."""

    widget = MultipleImageInput(attrs={"accept": "image/*"})
    max_photos = MAX_PHOTOS

    def clean(self, data: Any, initial: Any = None) -> list[CleanPhoto]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > self.max_photos:
            raise ValidationError(_("At most %(n)d photos.") % {"n": self.max_photos})
        # Every file's size and header first, so that no photo is decoded when another one
        # is refused; then one decoded at a time, each checked before the next is opened.
        errors = []
        for upload in files:
            try:
                check_photo(upload)
            except ValidationError as e:
                errors.extend(e.messages)
        if errors:
            raise ValidationError(errors)
        return [clean_photo(upload) for upload in files]


def assignable_to(issue: Issue) -> QuerySet[User]:
    return assignable_users(issue.community_id, grid_id=issue.grid_id)


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return person_name(obj)


def due_at_from_date(day: date) -> datetime:
    """A due date typed as a day means the end of that working day."""
    return timezone.make_aware(datetime.combine(day, time(18, 0)))


def queryset_of(field: forms.Field) -> QuerySet[Any]:
    """A model choice field's queryset (to the type checker, form.fields holds plain Fields)."""
    assert isinstance(field, forms.ModelChoiceField)
    assert field.queryset is not None
    return field.queryset


class CaptureForm(forms.Form):
    """Log a concern: what the grid worker types in a courtyard."""

    courtyard = forms.ModelChoiceField(
        queryset=Courtyard.objects.none(),
        label=_("Courtyard"),
        empty_label=_("Choose the courtyard"),
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.filter(is_active=True),
        label=_("Category"),
        empty_label=_("Choose the category"),
    )
    urgency = forms.ChoiceField(
        choices=Urgency.choices,
        label=_("Urgency"),
        widget=forms.RadioSelect,
        initial=Urgency.NORMAL,
    )
    title = forms.CharField(
        max_length=120, label=_("Title"), widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    description = forms.CharField(
        required=False,
        label=_("What the resident said"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    source = forms.ChoiceField(
        choices=Issue.Source.choices, initial=Issue.Source.VISIT, label=_("Source")
    )
    resident_name = forms.CharField(required=False, max_length=50, label=_("Resident's name"))
    resident_phone = PhoneField(
        required=False,
        max_length=20,
        label=_("Resident's phone"),
        validators=Issue._meta.get_field("resident_phone").validators,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    people_affected = forms.IntegerField(
        required=False, min_value=0, max_value=100000, label=_("People affected")
    )
    amount_owed = forms.DecimalField(
        required=False, min_value=0, max_digits=12, decimal_places=2, label=_("Amount owed (yuan)")
    )
    photos = MultiplePhotoField(required=False, label=_("Photos"))
    patrol = forms.ModelChoiceField(
        queryset=Patrol.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("That patrol is not yours or has ended.")},
    )
    token = forms.UUIDField(widget=forms.HiddenInput)

    def clean_title(self) -> str:
        # A title is one line: a line break in it would draw a line of its own into emails.
        return one_line(self.cleaned_data["title"])

    # What a new issue needs and a further report on an existing one does not.
    NEW_ISSUE_ONLY = ("courtyard", "category", "urgency", "title", "source")

    def __init__(self, *args: Any, user: User, adding: bool = False, **kwargs: Any) -> None:
        """`adding`: the form is posted to an existing issue (the duplicate hint's button)."""
        kwargs.setdefault("initial", {}).setdefault("token", uuid.uuid4())
        super().__init__(*args, **kwargs)
        self.user = user
        if adding:
            for name in self.NEW_ISSUE_ONLY:
                self.fields[name].required = False
        # Recently used courtyards first: a worker returns to the same few.
        cast(forms.ModelChoiceField, self.fields["courtyard"]).queryset = (
            Courtyard.objects.visible_to(user)
            .select_related("grid")
            .annotate(last_used=Max("issues__created_at", filter=Q(issues__created_by=user)))
            .order_by(F("last_used").desc(nulls_last=True), "name")
        )
        cast(forms.ModelChoiceField, self.fields["patrol"]).queryset = Patrol.objects.filter(
            grid_worker=user, ended_at__isnull=True
        )
        patrol_id = (self.data if self.is_bound else self.initial).get("patrol")
        patrol = (
            queryset_of(self.fields["patrol"]).filter(pk=patrol_id).first()
            if patrol_id and str(patrol_id).isascii() and str(patrol_id).isdigit()
            else None
        )
        if patrol is not None:
            # A hazard found on a patrol is in the patrol's grid.
            cast(forms.ModelChoiceField, self.fields["courtyard"]).queryset = queryset_of(
                self.fields["courtyard"]
            ).filter(pk__in=patrol.courtyards().values("pk"))
        if "token" in self.data:
            # A form redisplayed after an error keeps its token, so its retry is one issue.
            self.initial["token"] = self.data.get("token")

    def residents_words(self) -> str:
        """What the resident said, for a further report: the description, else the title."""
        data = self.cleaned_data
        return (data.get("description") or "").strip() or (data.get("title") or "").strip()


class CommentForm(forms.Form):
    note = forms.CharField(
        label=_("Comment"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class TransitionForm(forms.Form):
    """The fields each action takes; `seen_status` makes a stale action harmless."""

    seen_status = forms.ChoiceField(choices=Issue.Status.choices, widget=forms.HiddenInput)
    # The issue's state version when the page was drawn (`services.state_version`); pages
    # drawn before it existed post only the status, which is then all that is compared.
    seen_version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args: Any, action: str, issue: Issue, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action = action
        self.prefix = action
        if action == "list":
            self.fields["assignee"] = UserChoiceField(
                queryset=assignable_to(issue),
                label=_("Assignee"),
                required=False,
                empty_label=_("Nobody yet"),
            )
            self.fields["due_date"] = forms.DateField(
                label=_("Due"),
                required=False,
                widget=IsoDateInput(),
                help_text=_("Empty: the category's time limit from now."),
            )
        elif action == "resolve":
            self.fields["resolution"] = forms.CharField(
                label=_("How it was resolved"),
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            if issue.has_resident:
                # 事事有答复: the resident's answer can be written with the resolution.
                self.fields["reply"] = forms.CharField(
                    label=_("Reply to the resident"),
                    required=False,
                    max_length=2000,
                    help_text=_(
                        "Public. Needed unless a reply has already been sent from this page."
                    ),
                    widget=forms.Textarea(attrs={"rows": 2}),
                )
            if issue.category.code == "wage_arrears":
                self.fields["amount_recovered"] = forms.DecimalField(
                    label=_("Amount recovered (yuan)"),
                    required=False,
                    min_value=0,
                    max_digits=12,
                    decimal_places=2,
                )
                # The dashboard counts the workers of the wage cases resolved beside the sum.
                self.fields["people_affected"] = forms.IntegerField(
                    label=_("Workers concerned"),
                    required=False,
                    min_value=0,
                    max_value=100000,
                    initial=issue.people_affected,
                )
        elif action == "close":
            self.fields["outcome"] = forms.ChoiceField(
                choices=Issue.Outcome.choices, label=_("Why"), widget=forms.RadioSelect
            )
            self.fields["duplicate_of"] = forms.CharField(
                label=_("Duplicate of (reference)"),
                required=False,
                max_length=20,
                help_text=_("For a duplicate: the issue of this community it joins."),
            )
            self.fields["referred_to"] = forms.CharField(
                label=_("Referred to"),
                required=False,
                max_length=100,
                help_text=_("For a referral: the body now in charge."),
            )
            self.fields["reply"] = forms.CharField(
                label=_("Reply to the resident"),
                max_length=2000,
                help_text=_("Public: tells the resident why it is closed and what happens next."),
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        elif action == "reopen":
            self.fields["reason"] = forms.CharField(
                label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
            )

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if "due_date" in data:
            due = data.pop("due_date")
            data["due_at"] = due_at_from_date(due) if due else None
        return data


class AssignForm(forms.Form):
    assignee = UserChoiceField(
        queryset=get_user_model().objects.none(),
        label=_("Assignee"),
        empty_label=_("Choose the assignee"),
    )
    seen_assignee = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, issue: Issue, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prefix = "assign"
        cast(forms.ModelChoiceField, self.fields["assignee"]).queryset = assignable_to(issue)
        self.fields["seen_assignee"].initial = issue.assignee_id
        self.fields["assignee"].initial = issue.assignee_id


class MediationForm(forms.ModelForm):
    class Meta:
        model = Mediation
        fields = ["mediated_on", "parties", "place", "method", "outcome", "agreement"]
        widgets = {
            "mediated_on": IsoDateInput(),
            "parties": forms.Textarea(attrs={"rows": 2}),
            "agreement": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("mediated_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.prefix = "mediation"
        # A prompt, not Django's "---------": the outcome is chosen, never assumed.
        cast(forms.ChoiceField, self.fields["outcome"]).choices = [
            ("", _("Choose the outcome")),
            *Mediation.Outcome.choices,
        ]


class FollowUpForm(forms.ModelForm):
    class Meta:
        model = FollowUp
        fields = ["method", "satisfaction", "notes"]
        widgets = {
            "method": forms.RadioSelect,
            "satisfaction": forms.RadioSelect,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["method"].required = True
        self.fields["satisfaction"].required = True
        # RadioSelect on a model field adds a blank "---------" choice; a visit has no blank.
        cast(forms.ChoiceField, self.fields["method"]).choices = FollowUp.Method.choices
        cast(forms.ChoiceField, self.fields["satisfaction"]).choices = FollowUp.Satisfaction.choices


class ReplyForm(forms.Form):
    """A reply to the resident (答复): public, unlike every other entry of the timeline."""

    text = forms.CharField(
        label=_("Reply to the resident"),
        max_length=2000,
        help_text=_("Public: the resident reads it on the tracking page (and by text message)."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prefix = "reply"
