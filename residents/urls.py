from django.urls import path

import issues.urls  # noqa: F401  (registers the "ref" converter of references)
from residents import staff_views, views

app_name = "residents"
urlpatterns = [
    # Public: the service card's QR target, the page after sending, tracking.
    path("r/sent/<str:signed>/", views.sent, name="sent"),
    path("r/<str:token>/", views.report, name="report"),
    path("t/", views.track_lookup, name="track_lookup"),
    path("t/<ref:reference>/", views.track, name="track"),
    # Staff.
    path("cards/courtyards/<int:pk>/", staff_views.card, name="card"),
    path("cards/courtyards/<int:pk>/replace/", staff_views.replace_link, name="replace_link"),
    path("cards/communities/<int:pk>/", staff_views.community_cards, name="community_cards"),
    path("issues/<ref:reference>/reply/", staff_views.reply, name="reply"),
]
