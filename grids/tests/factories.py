import factory
from django.contrib.auth import get_user_model

from grids.models import (
    Community,
    Courtyard,
    District,
    Grid,
    GridWorker,
    OfficialAssignment,
    StaffAssignment,
    Subdistrict,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("grassroots-test")


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District

    name = factory.Sequence(lambda n: f"区{n}")


class SubdistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subdistrict

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"街道{n}")


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    subdistrict = factory.SubFactory(SubdistrictFactory)
    name = factory.Sequence(lambda n: f"社区{n}")


class GridFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grid

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"第{n}网格")


class CourtyardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Courtyard

    grid = factory.SubFactory(GridFactory)
    name = factory.Sequence(lambda n: f"大院{n}")
    address = factory.Sequence(lambda n: f"北京中路{n}号")
    leader_name = "次仁"
    leader_phone = "13908901234"
    households = 40


class GridWorkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GridWorker
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    phone = "13989001234"

    @factory.post_generation
    def grids(self, create: bool, extracted: list[Grid] | None, **kwargs: object) -> None:
        if create and extracted:
            self.grids.set(extracted)


class StaffAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffAssignment

    user = factory.SubFactory(UserFactory)
    community = factory.SubFactory(CommunityFactory)


class OfficialAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OfficialAssignment

    user = factory.SubFactory(UserFactory)
