from django import template
from django.utils import translation

register = template.Library()


@register.inclusion_tag("residents/partials/both.html")
def both(msgid: str) -> dict[str, str]:
    """A fixed text in Chinese and Tibetan side by side, as the service card prints it."""
    with translation.override("zh-hans"):
        zh = translation.pgettext("resident", msgid)
    with translation.override("bo"):
        bo = translation.pgettext("resident", msgid)
    return {"zh": zh, "bo": bo}
