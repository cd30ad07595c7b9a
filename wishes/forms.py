"""The forms of the wish pages: what each user types, checked before a service is called."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from grids.access import Scope
from grids.models import Courtyard
from issues.forms import MultiplePhotoField, PhoneField
from wishes.models import Offer, ServiceKind, Wish

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class WishForm(forms.ModelForm):
    """Log a wish: what a grid worker or staff member hears from a resident."""

    token = forms.UUIDField(widget=forms.HiddenInput)
    beneficiary_phone = PhoneField(label=_("beneficiary's phone"), required=False, max_length=20)

    class Meta:
        model = Wish
        fields = [
            "courtyard",
            "kind",
            "title",
            "description",
            "beneficiary_name",
            "beneficiary_phone",
            "source",
            "due_on",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "due_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = Scope.for_user(user)
        courtyard = cast(forms.ModelChoiceField, self.fields["courtyard"])
        courtyard.queryset = Courtyard.objects.filter(scope.grid_q("grid")).order_by(
            "grid__name", "name"
        )
        courtyard.empty_label = _("Choose the courtyard")
        kind = cast(forms.ModelChoiceField, self.fields["kind"])
        kind.queryset = ServiceKind.objects.filter(is_active=True)


class ActionForm(forms.Form):
    """The fields of one button of the wish page; each action asks for what its service needs."""

    seen_status = forms.CharField(widget=forms.HiddenInput)
    dispatch_id = forms.IntegerField(widget=forms.HiddenInput, required=False)

    FIELDS = {
        "verify": ["due_on"],
        "decline": ["reason"],
        "hand_back": ["reason"],
        "complete": ["note", "photos"],
        "record_satisfaction": ["satisfaction", "note"],
    }

    due_on = forms.DateField(
        label=_("To be done by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
    note = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 2}))
    photos = MultiplePhotoField(label=_("Photo"))
    satisfaction = forms.ChoiceField(
        label=_("Satisfaction"), choices=Wish.Satisfaction.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        kwargs["prefix"] = action
        super().__init__(*args, **kwargs)
        self.action = action
        keep = {"seen_status", "dispatch_id", *self.FIELDS.get(action, [])}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        if action == "record_satisfaction":
            self.fields["note"].required = False
            self.fields["note"].label = _("What the beneficiary said")

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("seen_status")
        if self.action not in ("take", "hand_back", "complete"):
            data.pop("dispatch_id", None)
        return data


class DispatchForm(forms.Form):
    seen_status = forms.CharField(widget=forms.HiddenInput)
    offers = forms.ModelMultipleChoiceField(
        queryset=Offer.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label=_("Offers that fit"),
        error_messages={"required": _("Choose at least one offer.")},
    )

    def __init__(self, *args: Any, offers: list[Offer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["offers"]).queryset = Offer.objects.filter(
            pk__in=[o.pk for o in offers]
        )


class WishFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=Wish.Status.choices, label=_("Status"), widget=forms.SelectMultiple
    )
    kind = django_filters.ModelChoiceFilter(
        queryset=ServiceKind.objects.all(), label=_("Kind of service")
    )
    source = django_filters.ChoiceFilter(choices=Wish.Source.choices, label=_("Source"))
    q = django_filters.CharFilter(method="search", label=_("Search"))
    # The dashboard's links: a stage, dates (local, inclusive) and an area, each exactly as
    # wishes/dashboard.py counts them.
    stage = django_filters.ChoiceFilter(
        choices=[("listed", _("On the needs list")), ("fulfilled", _("Fulfilled"))],
        method="filter_stage",
        label=_("Stage"),
    )
    created_after = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label=_("Collected from")
    )
    created_before = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label=_("Collected until")
    )
    done_after = django_filters.DateFilter(
        field_name="done_at", lookup_expr="date__gte", label=_("Fulfilled from")
    )
    done_before = django_filters.DateFilter(
        field_name="done_at", lookup_expr="date__lte", label=_("Fulfilled until")
    )
    district = django_filters.NumberFilter(field_name="district_id", widget=forms.HiddenInput)
    subdistrict = django_filters.NumberFilter(field_name="subdistrict_id", widget=forms.HiddenInput)
    community = django_filters.NumberFilter(field_name="community_id", widget=forms.HiddenInput)
    grid = django_filters.NumberFilter(field_name="grid_id", widget=forms.HiddenInput)

    class Meta:
        model = Wish
        fields = ["status", "kind", "source"]

    def filter_stage(self, queryset: Any, name: str, value: str) -> Any:
        statuses = {"listed": Wish.LISTED_STATUSES, "fulfilled": Wish.FULFILLED_STATUSES}
        return queryset.filter(status__in=statuses[value]) if value in statuses else queryset

    def search(self, queryset: Any, name: str, value: str) -> Any:
        value = value.strip()
        if not value:
            return queryset
        if len(value) == 9 and value[4] == "-":
            return queryset.filter(reference=value.upper())
        return queryset.filter(title__contains=value)
