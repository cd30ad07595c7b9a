from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from grids.models import Grid, Patrol


class StartPatrolForm(forms.Form):
    grid = forms.ModelChoiceField(queryset=Grid.objects.none(), label=_("Grid"),
                                  empty_label=None)
    kind = forms.ChoiceField(choices=Patrol.Kind.choices, label=_("Kind"),
                             widget=forms.RadioSelect, initial=Patrol.Kind.ROUTINE)
    notes = forms.CharField(required=False, max_length=2000, label=_("Notes"),
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = Grid.objects.filter(
            grid_workers__user=user, grid_workers__is_active=True).select_related("community")


class EndPatrolForm(forms.Form):
    notes = forms.CharField(required=False, max_length=2000, label=_("What you saw"),
                            widget=forms.Textarea(attrs={"rows": 2}))
