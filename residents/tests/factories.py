import factory

from grids.tests.factories import CommunityFactory, CourtyardFactory
from residents.models import CourtyardLink, ServiceNumber


class CourtyardLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CourtyardLink

    courtyard = factory.SubFactory(CourtyardFactory)


class ServiceNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceNumber

    community = factory.SubFactory(CommunityFactory)
    name = "家政服务"
    name_bo = "ཁྱིམ་ཞབས་ཞུ།"
    phone = "0891-6321234"
    hours = "9:00–18:00"
    order = factory.Sequence(int)
