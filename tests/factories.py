"""factory_boy factories and the named personas the tests speak of."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import factory

from maslikhat.accounts.models import Role, User
from maslikhat.directory.models import (
    Category,
    Commission,
    Convocation,
    Department,
    DepartmentKind,
    DepartmentMember,
    Deputy,
    District,
    Mandate,
    Party,
    Position,
)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"Имя{n}")
    last_name = factory.Sequence(lambda n: f"Фамилия{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@maslikhat.local")
    role = Role.DEPUTY
    # The personas read their notifications and e-mail in English, so tests can
    # assert the source texts; tests of translation set another language.
    language = "en"
    password = factory.django.Password("maslikhat-demo")


class ConvocationFactory(factory.django.DjangoModelFactory[Convocation]):
    class Meta:
        model = Convocation
        django_get_or_create = ("number",)

    number = 8
    elected_on = datetime.date(2023, 3, 19)
    is_current = True


class PartyFactory(factory.django.DjangoModelFactory[Party]):
    class Meta:
        model = Party
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"party{n}")
    name_ru = factory.Sequence(lambda n: f"Партия {n}")
    name_kk = factory.Sequence(lambda n: f"Партиясы {n}")
    name_en = factory.Sequence(lambda n: f"Party {n}")


class DistrictFactory(factory.django.DjangoModelFactory[District]):
    class Meta:
        model = District
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"district{n}")
    name_ru = factory.Sequence(lambda n: f"Район {n}")
    name_kk = factory.Sequence(lambda n: f"Ауданы {n}")
    name_en = factory.Sequence(lambda n: f"District {n}")


class CommissionFactory(factory.django.DjangoModelFactory[Commission]):
    class Meta:
        model = Commission

    convocation = factory.SubFactory(ConvocationFactory)
    code = factory.Sequence(lambda n: f"commission{n}")
    name_ru = factory.Sequence(lambda n: f"Комиссия {n}")
    name_kk = factory.Sequence(lambda n: f"Комиссиясы {n}")
    name_en = factory.Sequence(lambda n: f"Commission {n}")


class DepartmentFactory(factory.django.DjangoModelFactory[Department]):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"dept{n}")
    kind = DepartmentKind.CITY_DEPARTMENT
    name_ru = factory.Sequence(lambda n: f"Управление {n}")
    name_kk = factory.Sequence(lambda n: f"Басқармасы {n}")
    name_en = factory.Sequence(lambda n: f"Department {n}")


class DepartmentMemberFactory(factory.django.DjangoModelFactory[DepartmentMember]):
    class Meta:
        model = DepartmentMember

    user = factory.SubFactory(UserFactory, role=Role.EXECUTOR)
    department = factory.SubFactory(DepartmentFactory)
    position = Position.EXECUTOR


class DeputyFactory(factory.django.DjangoModelFactory[Deputy]):
    class Meta:
        model = Deputy

    user = factory.SubFactory(UserFactory, role=Role.DEPUTY)
    convocation = factory.SubFactory(ConvocationFactory)
    party = factory.SubFactory(PartyFactory)
    mandate = Mandate.PARTY_LIST


class CategoryFactory(factory.django.DjangoModelFactory[Category]):
    class Meta:
        model = Category
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"category{n}")
    name_ru = factory.Sequence(lambda n: f"Категория {n}")


def department_officer(username: str, department: Department, position: str) -> User:
    role = Role.HEAD if position == Position.HEAD else Role.EXECUTOR
    user = UserFactory.create(username=username, role=role)
    DepartmentMemberFactory.create(user=user, department=department, position=position)
    return user


@dataclass
class DemoDirectory:
    """The personas: two departments (finance, mobility), two deputies, staff, chair, admin."""

    convocation: Convocation
    finance: Department
    mobility: Department
    finance_head: User
    finance_exec: User
    mobility_head: User
    mobility_exec: User
    alice: Deputy  # deputy1
    bob: Deputy  # deputy2
    staff: User
    chair: User
    admin: User


def make_directory() -> DemoDirectory:
    convocation = ConvocationFactory.create()
    finance = DepartmentFactory.create(
        code="finance", name_ru="Управление финансов", name_en="Finance"
    )
    mobility = DepartmentFactory.create(
        code="mobility", name_ru="Управление мобильности", name_en="Mobility"
    )
    return DemoDirectory(
        convocation=convocation,
        finance=finance,
        mobility=mobility,
        finance_head=department_officer("finance-head", finance, Position.HEAD),
        finance_exec=department_officer("finance-exec", finance, Position.EXECUTOR),
        mobility_head=department_officer("mobility-head", mobility, Position.HEAD),
        mobility_exec=department_officer("mobility-exec", mobility, Position.EXECUTOR),
        alice=DeputyFactory.create(
            user=UserFactory.create(username="deputy1", role=Role.DEPUTY), convocation=convocation
        ),
        bob=DeputyFactory.create(
            user=UserFactory.create(username="deputy2", role=Role.DEPUTY), convocation=convocation
        ),
        staff=UserFactory.create(username="staff", role=Role.STAFF),
        chair=UserFactory.create(username="chair", role=Role.CHAIR),
        admin=UserFactory.create(
            username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True
        ),
    )
