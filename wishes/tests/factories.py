import factory

from grids.tests.factories import CommunityFactory, CourtyardFactory, UserFactory
from wishes.models import Dispatch, Offer, Provider, ServiceKind, Wish


def kind(code: str = "daily_care") -> ServiceKind:
    return ServiceKind.objects.get(code=code)


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider
        skip_postgeneration_save = True

    kind = Provider.Kind.PARTY_MEMBER
    name = factory.Sequence(lambda n: f"党员{n}")
    contact_name = factory.LazyAttribute(lambda p: p.name)
    contact_phone = "13989005678"

    @factory.post_generation
    def communities(self, create: bool, extracted: list | None, **kwargs: object) -> None:
        if create and extracted:
            self.communities.set(extracted)


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    provider = factory.SubFactory(ProviderFactory)
    title = factory.Sequence(lambda n: f"上门服务{n}")
    kind = factory.LazyFunction(kind)
    capacity = 3
    community = factory.SubFactory(CommunityFactory)


class WishFactory(factory.django.DjangoModelFactory):
    """A wish in a courtyard; its four area columns are copied from it, as the service does."""

    class Meta:
        model = Wish

    title = factory.Sequence(lambda n: f"微心愿{n}")
    kind = factory.LazyFunction(kind)
    beneficiary_name = "卓玛"
    beneficiary_phone = "13800001234"
    courtyard = factory.SubFactory(CourtyardFactory)
    created_by = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class: type[Wish], *args: object, **kwargs: object) -> Wish:
        wish = model_class(*args, **kwargs)
        wish.set_area_from_courtyard()
        wish.save()
        return wish


class DispatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dispatch

    wish = factory.SubFactory(WishFactory, status=Wish.Status.DISPATCHED)
    offer = factory.SubFactory(OfferFactory)
    provider = factory.LazyAttribute(lambda d: d.offer.provider)
    dispatched_by = factory.SubFactory(UserFactory)
