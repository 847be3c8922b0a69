"""factory_boy factories for the household model, shared by every app's tests."""

from datetime import date

import factory
from django.contrib.auth import get_user_model

from eligibility.models import CardFacts, Employer, Household, MemberLink, Person, Society


class SocietyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Society
        django_get_or_create = ("insurer_number",)

    insurer_number = "06139999"
    name = "テスト健康保険組合"
    address = "東京都千代田区丸の内1-1-1"
    phone = "03-0000-0000"


class EmployerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employer

    society = factory.SubFactory(SocietyFactory)
    code = factory.Sequence(lambda n: f"E{n:04d}")
    name = factory.Sequence(lambda n: f"テスト商事株式会社 第{n}事業所")
    address = "東京都港区芝公園4-2-8"


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    society = factory.SubFactory(SocietyFactory)
    employer = factory.SubFactory(EmployerFactory, society=factory.SelfAttribute("..society"))
    symbol = "1234"
    number = factory.Sequence(lambda n: str(1000 + n))


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    household = factory.SubFactory(HouseholdFactory)
    branch_number = "00"
    relationship = Person.Relationship.SELF
    family_name = "山田"
    given_name = "太郎"
    family_name_kana = "ヤマダ"
    given_name_kana = "タロウ"
    sex = Person.Sex.MALE
    birth_date = date(1985, 11, 14)
    eligible_from = date(2010, 4, 1)


class CardFactsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CardFacts

    person = factory.SubFactory(PersonFactory)
    has_card = True
    card_expires_on = date(2031, 11, 14)
    ecert_expires_on = date(2026, 11, 14)
    ecert_source = CardFacts.EcertSource.STATED
    registered = True
    registration_source = CardFacts.RegistrationSource.MEMBER


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.jp")

    @factory.post_generation
    def password(user, create, extracted, **kwargs):
        user.set_password(extracted or "correct-horse-battery")
        if create:
            user.save(update_fields=["password"])


def verified_member(person: Person, email: str) -> "get_user_model()":
    """A login with a verified e-mail address, linked to ``person``."""
    from allauth.account.models import EmailAddress

    user = UserFactory(username=email.split("@")[0], email=email)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    MemberLink.objects.create(user=user, person=person)
    return user
