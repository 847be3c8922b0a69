"""Two 事業所 of one society, their people, a 任意継続 household, and a contact of each."""

from datetime import date

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from certificates import services
from certificates.models import Basis, PrintFile
from eligibility.models import EmployerContact
from staff.testing import login_with_mfa
from tests.factories import EmployerFactory, HouseholdFactory, PersonFactory, SocietyFactory

PASSWORD = "contact-Correct-horse-9"


@pytest.fixture(autouse=True)
def _tasks_run_in_process(eager_tasks):
    """Tasks run in-process."""


def make_contact(*employers, email: str, with_totp: bool = True):
    """An accepted contact of ``employers`` (a login with a password, and TOTP)."""
    import base64
    import secrets

    from allauth.mfa.adapter import get_adapter as get_mfa_adapter
    from allauth.mfa.models import Authenticator

    user = get_user_model().objects.create_user(username=email.split("@")[0], email=email, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    contact = EmployerContact.objects.create(user=user, name=f"担当 {email}")
    contact.employers.set(employers)
    user.totp_secret = None
    if with_totp:
        user.totp_secret = base64.b32encode(secrets.token_bytes(20)).decode()
        Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP,
                                     data={"secret": get_mfa_adapter().encrypt(user.totp_secret)})
    return user


@pytest.fixture
def society(db):
    return SocietyFactory()


@pytest.fixture
def employer_a(society):
    return EmployerFactory(society=society, code="A001", name="青空商事株式会社")


@pytest.fixture
def employer_b(society):
    return EmployerFactory(society=society, code="B001", name="白雲工業株式会社")


def household(employer, *, number: str, family: str, voluntary: bool = False):
    home = HouseholdFactory(society=employer.society, employer=employer, symbol="77", number=number,
                            voluntary_continuation=voluntary, address="東京都港区1-1" if voluntary else "")
    insured = PersonFactory(household=home, branch_number="00", family_name=family, given_name="一郎")
    child = PersonFactory(household=home, branch_number="01", relationship="child", family_name=family,
                          given_name="こども", birth_date=date(2018, 4, 1))
    return insured, child


@pytest.fixture
def people_a(employer_a):
    return household(employer_a, number="100", family="青木")


@pytest.fixture
def people_b(employer_b):
    return household(employer_b, number="200", family="別所")


@pytest.fixture
def voluntary_a(employer_a):
    """任意継続 (R8): still linked to A in the roster, but never A's to see."""
    return household(employer_a, number="300", family="任継", voluntary=True)


@pytest.fixture
def contact_a(employer_a):
    return make_contact(employer_a, email="hr-a@example.jp")


@pytest.fixture
def contact_b(employer_b):
    return make_contact(employer_b, email="hr-b@example.jp")


@pytest.fixture
def client_a(client, contact_a):
    login_with_mfa(client, contact_a)
    return client


def packet_for(persons, *, sequence: int = 1):
    """Certificates for ``persons`` in a print file, its packets made as on rendering."""
    certificates = [services.certificate_issue(person=p, basis=Basis.CUTOFF, issued_by=None) for p in persons]
    print_file = PrintFile.objects.create(day=date(2026, 12, 1), route="employer", sequence=sequence,
                                          certificate_count=len(certificates), description="test")
    services.packets.packets_make(print_file=print_file, certificate_ids=[c.pk for c in certificates])
    return print_file.packets.get(employer=persons[0].household.employer), certificates
