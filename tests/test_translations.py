"""English is the second language: one project catalog (``locale/en``), complete and
compiled, and the key pages read in English once a visitor switches language (Japanese
stays the default)."""

import gettext
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from staff.roles import MANAGER
from staff.testing import login_with_mfa, make_staff
from tests import pofile

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "locale/en/LC_MESSAGES/django.po"
CATALOGS = sorted(p for p in ROOT.glob("**/locale/*/LC_MESSAGES/*.po") if ".venv" not in p.parts)
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e]")
# Shown in Japanese on purpose in the English pages: the language switch offers 日本語.
ALLOWED_JAPANESE = {"日本語"}


class _VisibleText(HTMLParser):
    """The text a reader sees or hears: element text plus the labelling attributes.

    Text marked ``lang="ja"`` (the society's own name and address, data rather than
    interface) is Japanese on purpose and left out."""

    def __init__(self):
        super().__init__()
        self.chunks: list[str] = []
        self._hidden = 0
        self._japanese: list[str] = []  # open tags that carry lang="ja"

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        if tag != "html" and dict(attrs).get("lang", "").startswith("ja"):
            self._japanese.append(tag)
            self._hidden += 1
        self.chunks += [v for k, v in attrs if k in ("aria-label", "title", "placeholder", "alt") and v]

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1
        if self._japanese and self._japanese[-1] == tag:
            self._japanese.pop()
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.chunks.append(data.strip())


def japanese_left(response) -> list[str]:
    parser = _VisibleText()
    parser.feed(response.content.decode())
    return [c for c in parser.chunks if JAPANESE.search(c) and c not in ALLOWED_JAPANESE]


@pytest.fixture(autouse=True)
def _japanese_again_after_each_test():
    """A request in English leaves English active in this thread: later tests expect Japanese."""
    yield
    translation.deactivate()


def in_english(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


def test_there_is_one_catalog_for_the_whole_project():
    # An app catalog would shadow or be shadowed by the project's for the same msgid
    # (「申請する」 once read "Apply" on the certificate request form).
    assert [p.relative_to(ROOT) for p in CATALOGS] == [CATALOG.relative_to(ROOT)]


def test_every_entry_of_the_catalog_is_translated_and_none_is_fuzzy():
    entries = pofile.read(CATALOG)
    assert len(entries) > 500, "the catalog reader found too few entries"
    untranslated = [str(e) for e in entries if not e.translated]
    fuzzy = [str(e) for e in entries if e.fuzzy]
    problems = ([f"untranslated {e}" for e in untranslated] + [f"fuzzy (a guess by msgmerge: check it, then drop "
                                                                f"the flag) {e}" for e in fuzzy])
    assert not problems, f"{CATALOG.relative_to(ROOT)} needs translating:\n" + "\n".join(problems)


# Japanese text, a slash, then an English sentence: 「保存しました。 / Saved.」
# (「… / A 12-digit number …」 too: the first English word may be one letter.)
MIXED = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff）。」][^/]*\s/\s+[A-Z][\w-]*\s+\w")


def test_each_message_is_in_one_language():
    """A msgid is Japanese and its translation English: never 「日本語 / English」 in one
    string (the Japanese page would show an English tail)."""
    mixed = [str(e) for e in pofile.read(CATALOG) if MIXED.search(e.msgid)]
    assert not mixed, "split these into a Japanese msgid and its English translation:\n" + "\n".join(mixed)


def test_a_japanese_word_with_two_meanings_has_a_context_for_each():
    translations = {(e.msgctxt, e.msgid): e.msgstr[0] for e in pofile.read(CATALOG)}
    assert translations[("guide step: apply for the card", "申請する")] == "Apply"
    assert translations[("submit a certificate request", "申請する")] == "Send the request"
    assert (None, "申請する") not in translations


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext (msgfmt) is not installed")
def test_the_catalog_compiles_and_its_committed_mo_is_up_to_date(tmp_path):
    fresh = tmp_path / "django.mo"
    result = subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(CATALOG)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    with fresh.open("rb") as f, CATALOG.with_suffix(".mo").open("rb") as g:
        assert gettext.GNUTranslations(g)._catalog == gettext.GNUTranslations(f)._catalog, (
            f"{CATALOG.with_suffix('.mo')} is stale: run manage.py compilemessages"
        )


def test_the_certificate_request_button_reads_send_the_request(client, alice, alice_person):
    client.force_login(alice)
    response = in_english(client).get(reverse("certificates:request_form", args=[alice_person.pk, "card_lost"]))
    assert response.status_code == 200
    assert "Send the request</button>" in response.content.decode()


def test_the_card_guide_step_reads_apply(client):
    response = in_english(client).get(reverse("eligibility:guide", args=["get-card"]))
    assert response.status_code == 200
    assert "<h2>Apply</h2>" in response.content.decode()


def test_japanese_stays_the_default(client):
    response = client.get(reverse("home"))
    assert "ログイン" in response.content.decode()
    assert response.headers["Content-Language"] == "ja"


def test_the_home_page_reads_in_english(client):
    response = in_english(client).get(reverse("home"))
    page = response.content.decode()
    assert response.headers["Content-Language"] == "en"
    assert "Kenpo Portal" in page
    assert "First time here? Sign up" in page
    assert "My Number insurance card" in page
    assert japanese_left(response) == []


def test_the_login_page_reads_in_english(client):
    response = in_english(client).get(reverse("account_login"))
    assert "Skip to main content" in response.content.decode()
    assert "This portal never collects your My Number." in response.content.decode()
    assert japanese_left(response) == []


def test_the_dashboard_of_a_linked_member_reads_in_english(client, alice):
    client.force_login(alice)
    response = in_english(client).get(reverse("eligibility:dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "My household" in page
    assert "Sign out" in page
    assert "My Number" in page
    for japanese in ("ログアウト", "わが家の状況", "アカウント", "本文へ移動", "お問い合わせ"):
        assert japanese not in page


def test_the_account_pages_read_in_english(client, alice):
    client.force_login(alice)
    in_english(client)
    for name, heading in (("account_email", "E-mail address"), ("account_change_password", "Change password"),
                          ("audit:access_log", "Staff access to your records")):
        response = client.get(reverse(name))
        assert heading in response.content.decode(), name
        assert japanese_left(response) == [], name


def test_the_staff_dashboard_reads_in_english(client):
    from staff.dashboard import refresh_summary

    login_with_mfa(client, make_staff(role=MANAGER, email="manager@example.jp"))
    refresh_summary()  # what the worker does (the first view ever only says it is counting)
    response = in_english(client).get(reverse("staff:dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Operations dashboard" in page
    assert "Work to do" in page
    for japanese in ("業務ダッシュボード</h1>", "対応が必要なこと", "今後24か月の有効期限"):
        assert japanese not in page
