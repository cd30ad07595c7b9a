"""The residents' forms. Every message they show is in the "resident" context of the catalogue,
which has Tibetan as well as Chinese: Django's own messages have no Tibetan."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import pgettext_lazy

from grids.models import phone_validator
from issues.forms import MultiplePhotoField, PhoneField
from issues.models import Category

REQUIRED = pgettext_lazy("resident", "Please fill this in.")
TOO_LONG = pgettext_lazy(
    "resident", "Please keep it to %(limit_value)d characters (it has %(show_value)d)."
)


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Category) -> str:
        return obj.label_for_residents


class ResidentPhotoField(MultiplePhotoField):
    """The grid worker's photo checks (content, size, pixels, metadata), three at most."""

    max_photos = settings.RESIDENT_MAX_PHOTOS


class ReportForm(forms.Form):
    """A resident's concern. The courtyard comes from the card's link, not from the form."""

    category = CategoryChoiceField(
        queryset=Category.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        label=pgettext_lazy("resident", "What is it about?"),
        error_messages={
            "required": pgettext_lazy("resident", "Please choose what it is about."),
            "invalid_choice": pgettext_lazy("resident", "Please choose one of the listed kinds."),
        },
    )
    description = forms.CharField(
        max_length=2000,
        label=pgettext_lazy("resident", "What happened, and where?"),
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": REQUIRED, "max_length": TOO_LONG},
    )
    photos = ResidentPhotoField(
        required=False,
        label=pgettext_lazy("resident", "Photos (up to 3, optional)"),
        error_messages={"invalid": pgettext_lazy("resident", "That is not a photo.")},
    )
    name = forms.CharField(
        required=False,
        max_length=50,
        label=pgettext_lazy("resident", "Your name (optional)"),
        error_messages={"max_length": TOO_LONG},
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = PhoneField(
        required=False,
        max_length=20,
        label=pgettext_lazy("resident", "Your phone (optional)"),
        help_text=pgettext_lazy("resident", "Only used to reply to your concern."),
        validators=[
            RegexValidator(
                phone_validator.regex,
                pgettext_lazy(
                    "resident", "Please enter a mobile number of 11 digits, or a landline."
                ),
            )
        ],
        error_messages={"max_length": TOO_LONG},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    # A field people do not see: a form that fills it in was filled in by a program.
    homepage = forms.CharField(
        required=False,
        label=pgettext_lazy("resident", "Leave this empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    token = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": pgettext_lazy("resident", "The form was incomplete: please send it again."),
            "invalid": pgettext_lazy("resident", "The form was incomplete: please send it again."),
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        import uuid

        kwargs.setdefault("initial", {}).setdefault("token", uuid.uuid4())
        super().__init__(*args, **kwargs)
        category = cast(forms.ModelChoiceField, self.fields["category"])
        category.queryset = Category.objects.filter(is_active=True).exclude(resident_label="")
        if "token" in self.data:
            # Redisplayed after an error, the form keeps its token: a retry is still one issue.
            self.initial["token"] = self.data.get("token")

    @property
    def is_from_a_program(self) -> bool:
        return bool(self.data.get("homepage", "").strip())


class TrackForm(forms.Form):
    reference = forms.CharField(
        max_length=20,
        label=pgettext_lazy("resident", "Reference"),
        error_messages={"required": REQUIRED, "max_length": TOO_LONG},
        widget=forms.TextInput(
            attrs={
                "autocapitalize": "characters",
                "autocomplete": "off",
                "placeholder": "K7QM-X9P3",
            }
        ),
    )

    def clean_reference(self) -> str:
        """K7QMX9P3, k7qm x9p3 and K7QM-X9P3 are one reference."""
        raw = "".join(ch for ch in self.cleaned_data["reference"].upper() if ch.isalnum())
        return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else raw
