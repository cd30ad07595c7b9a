from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordMixin, UsernameField
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from grids.models import Grid, GridWorker, Patrol, person_label
from issues.forms import PhoneField


class StartPatrolForm(forms.Form):
    grid = forms.ModelChoiceField(queryset=Grid.objects.none(), label=_("Grid"), empty_label=None)
    kind = forms.ChoiceField(
        choices=Patrol.Kind.choices,
        label=_("Kind"),
        widget=forms.RadioSelect,
        initial=Patrol.Kind.ROUTINE,
    )
    notes = forms.CharField(
        required=False, max_length=2000, label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["grid"]).queryset = Grid.objects.filter(
            grid_workers__user=user, grid_workers__is_active=True
        ).select_related("community")


class EndPatrolForm(forms.Form):
    notes = forms.CharField(
        required=False,
        max_length=2000,
        label=_("What you saw"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return person_label(obj)


class PersonMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return person_label(obj)


class GridWorkerCreationForm(SetPasswordMixin, forms.ModelForm):
    """Add a grid worker in one step: the account, the name and phone, and the grids."""

    full_name = forms.CharField(label=_("Full name"), max_length=150)
    phone = PhoneField(
        label=_("Mobile phone"),
        max_length=20,
        validators=GridWorker._meta.get_field("phone").validators,
        help_text=_("The number the community calls them on: 11 digits, or a landline."),
    )
    username = UsernameField(
        label=_("Username"),
        max_length=150,
        validators=get_user_model()._meta.get_field("username").validators,
        help_text=_("What they type to log in: letters, digits and @/./+/-/_ only."),
    )
    email = forms.EmailField(
        label=_("Email address"),
        required=False,
        help_text=_("Optional: notifications are also sent here."),
    )
    password1, password2 = SetPasswordMixin.create_password_fields(
        label1=_("Initial password"), label2=_("Initial password again")
    )

    class Meta:
        model = GridWorker
        fields = ["phone", "grids"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        # As Django's own user form does: names differing only in case are the same person.
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError(
                _("The username %(username)s is taken; choose another."),
                code="unique",
                params={"username": username},
            )
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None  # ModelForm.clean returns its cleaned_data
        self.validate_passwords()
        user = get_user_model()(
            username=cleaned.get("username", ""),
            first_name=cleaned.get("full_name", ""),
            email=cleaned.get("email", ""),
        )
        self.validate_password_for_user(user)
        return cleaned
