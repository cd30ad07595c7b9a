from django.urls import path, register_converter

from wishes import views


class WishReferenceConverter:
    regex = "[Ww][0-9A-Za-z]{3}-[0-9A-Za-z]{4}"

    def to_python(self, value: str) -> str:
        return value.upper()

    def to_url(self, value: str) -> str:
        return value


register_converter(WishReferenceConverter, "wref")

app_name = "wishes"
urlpatterns = [
    path("wishes/", views.wish_list, name="list"),
    path("wishes/new/", views.wish_new, name="new"),
    path("wishes/mine/", views.my_dispatches, name="mine"),
    path("wishes/offers/", views.offer_list, name="offers"),
    path("wishes/<wref:reference>/", views.wish_detail, name="detail"),
    path("wishes/<wref:reference>/dispatch/", views.wish_dispatch, name="dispatch"),
    path("wishes/<wref:reference>/photos/<int:pk>/<str:size>.jpg", views.photo, name="photo"),
    path("wishes/<wref:reference>/<str:action>/", views.wish_action, name="action"),
]
