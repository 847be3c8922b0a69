import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from audit.models import AuditEntry
from eligibility.models import Person
from imports.models import ImportRun
from imports.tests.helpers import HANAKO, JIRO, TARO, roster
from staff.roles import CLERK, MANAGER, VIEWER
from staff.testing import login_with_mfa, make_staff
from tests.factories import EmployerFactory, SocietyFactory

pytestmark = pytest.mark.django_db

LIST = "/staff/imports/"


@pytest.fixture
def society():
    society = SocietyFactory()
    EmployerFactory(society=society, code="E0001")
    return society


@pytest.fixture
def clerk(client):
    user = make_staff(role=CLERK, email="clerk@example.jp")
    login_with_mfa(client, user)
    return user


def jobs_run(client_call, *args, **kwargs):
    """A request whose background jobs (queued on commit) run before it returns, as in the embedded default."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client_call(*args, **kwargs)


def upload(client, society, data: bytes, kind="roster", name="roster.csv"):
    return jobs_run(client.post, LIST, {"kind": kind, "society": society.pk, "file": SimpleUploadedFile(name, data)})


def test_a_clerk_previews_then_confirms_a_roster(client, society, clerk):
    response = upload(client, society, roster(HANAKO, TARO, JIRO, encoding="cp932"))

    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/staff/imports/{run.pk}/"
    assert not Person.objects.exists()
    page = client.get(f"/staff/imports/{run.pk}/").content.decode()
    assert "新しく登録する加入者" in page and "cp932" in page and "取り込む" in page

    response = jobs_run(client.post, f"/staff/imports/{run.pk}/confirm/")

    assert response["Location"] == f"/staff/imports/{run.pk}/"
    assert "取り込みました。" in client.get(response["Location"]).content.decode()
    assert Person.objects.count() == 3
    # The upload (with the client's address), the check's outcome and the import.
    assert AuditEntry.objects.filter(action="import", actor=clerk).count() == 3


def test_reimporting_shows_no_change(client, society, clerk):
    data = roster(HANAKO, TARO)
    upload(client, society, data)
    jobs_run(client.post, f"/staff/imports/{ImportRun.objects.get().pk}/confirm/")

    upload(client, society, data)
    run = ImportRun.objects.filter(status="preview").get()
    assert "変更なし" in client.get(f"/staff/imports/{run.pk}/").content.decode()
    jobs_run(client.post, f"/staff/imports/{run.pk}/confirm/")
    assert "変更なし" in client.get(f"/staff/imports/{run.pk}/").content.decode()


def test_bad_rows_are_listed_and_there_is_nothing_to_confirm(client, society, clerk):
    upload(client, society, roster(HANAKO, TARO.replace("男", "?")))
    run = ImportRun.objects.get()

    page = client.get(f"/staff/imports/{run.pk}/").content.decode()
    assert "性別「?」は 男/女（1/2）で入力してください。" in page
    assert f'action="/staff/imports/{run.pk}/confirm/"' not in page
    client.post(f"/staff/imports/{run.pk}/confirm/")
    assert not Person.objects.exists()

    errors = client.get(f"/staff/imports/{run.pk}/errors.csv")
    assert errors["Content-Type"] == "text/csv; charset=utf-8"
    assert "3,性別「?」" in errors.content.decode("utf-8-sig")


def test_the_upload_form_explains_a_missing_file(client, society, clerk):
    response = client.post(LIST, {"kind": "roster", "society": society.pk})

    assert response.status_code == 200
    assert not ImportRun.objects.exists()


def test_the_page_documents_both_layouts_with_samples(client, society, clerk):
    page = client.get(LIST).content.decode()

    assert "資格確認書発行要否" in page and "利用登録状況" in page and "基準日" in page
    sample = client.get("/staff/imports/samples/roster.csv")
    assert sample.status_code == 200
    assert sample.content.decode("utf-8-sig").startswith("記号,番号,枝番,氏,名")
    assert client.get("/staff/imports/samples/nothing.csv").status_code == 404


@pytest.mark.parametrize("employer_codes", [["0001", "0002"], []], ids=["seed_demo's employers", "no employer"])
def test_the_samples_import_as_shipped(client, clerk, employer_codes):
    society = SocietyFactory()
    for code in employer_codes:
        EmployerFactory(society=society, code=code)

    for kind in ("roster", "registration"):
        data = client.get(f"/staff/imports/samples/{kind}.csv").content
        upload(client, society, data, kind=kind)
        run = ImportRun.objects.order_by("-pk").first()
        assert (run.status, run.errors) == ("preview", []), run.errors
        jobs_run(client.post, f"/staff/imports/{run.pk}/confirm/")
        run.refresh_from_db()
        assert run.status == "confirmed"
    assert run.counts == {"updated": 3}
    jiro = Person.objects.get(given_name="次郎")
    assert (jiro.household.postal_code, jiro.household.address) == ("100-0001", "東京都千代田区千代田1-1")
    assert jiro.household.voluntary_continuation_ends_on.isoformat() == "2027-08-31"
    assert not Person.objects.get(given_name="一郎").my_number_registered
    hanako = Person.objects.get(given_name="花子")
    assert (hanako.household.employer.code if hanako.household.employer else None) == (
        employer_codes[0] if employer_codes else None
    )


@pytest.mark.parametrize("role", [VIEWER, None])
def test_staff_without_the_import_permission_get_403(client, society, role):
    login_with_mfa(client, make_staff(role=role, email="someone@example.jp"))

    assert client.get(LIST).status_code == 403
    assert upload(client, society, roster(HANAKO)).status_code == 403
    assert not ImportRun.objects.exists()


def test_a_manager_may_import(client, society):
    login_with_mfa(client, make_staff(role=MANAGER, email="manager@example.jp"))

    assert client.get(LIST).status_code == 200


def test_members_get_403_and_anonymous_users_the_login(client, society, alice):
    assert client.get(LIST)["Location"].startswith("/admin/login/")
    client.force_login(alice)
    assert client.get(LIST).status_code == 403
    assert upload(client, society, roster(HANAKO)).status_code == 403


def test_a_viewer_cannot_confirm_a_clerks_preview(client, society):
    clerk = make_staff(role=CLERK, email="clerk@example.jp")
    login_with_mfa(client, clerk)
    upload(client, society, roster(HANAKO))
    run = ImportRun.objects.get()
    login_with_mfa(client, make_staff(role=VIEWER, email="viewer@example.jp"))

    assert client.post(f"/staff/imports/{run.pk}/confirm/").status_code == 403
    assert not Person.objects.exists()


def test_the_admin_lists_runs_read_only(client, society, clerk):
    upload(client, society, roster(HANAKO))
    login_with_mfa(client, make_staff(role=MANAGER, email="manager@example.jp"))

    page = client.get("/admin/imports/importrun/")
    assert page.status_code == 200
    assert client.get("/admin/imports/importrun/add/").status_code == 403
