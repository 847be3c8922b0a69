"""The society's people and their My Number card facts.

Identity (who a person is in the society) and card facts (what the member or the
national file told us about their card) are kept apart. The 12-digit 個人番号 is
never stored anywhere (RULES.md R9).
"""

import re
import unicodedata
from datetime import date

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.kana import fold_all

from . import rules

insurer_number_validator = RegexValidator(
    r"^06\d{6}$", _("保険者番号は「06」で始まる8桁の数字です。")
)
symbol_number_validator = RegexValidator(
    r"^\d{1,8}$", _("記号・番号は8桁までの数字です。")
)
branch_number_validator = RegexValidator(
    r"^\d{2}$", _("枝番は2桁の数字です。")
)


def normalise_digits(value: str) -> str:
    """記号・番号 compare without leading zeros (``"0012"`` is ``"12"``)."""
    value = (value or "").strip()
    return value.lstrip("0") or "0" if value.isdigit() else value


# 記号・番号（・枝番） in any form the portal prints or a clerk pastes: 109-200004-00,
# 109・200004・00, 109 200004, 記号109 番号200004 枝番00, full-width digits.
_DIGIT_GROUPS = re.compile(r"\d+")


def read_symbol_number(text: str) -> tuple[str, str, str] | None:
    """(記号, 番号, 枝番 or "") from one pasted text, or None when it is not two or
    three groups of digits (枝番 two digits at most). Leading zeros are not significant
    (``normalise_digits``); 枝番 is given two digits (``1`` → ``01``)."""
    value = unicodedata.normalize("NFKC", text or "")
    if re.search(r"[^\d\s\-・･.,/:：記号番枝]", value):
        return None
    groups = _DIGIT_GROUPS.findall(value)
    if len(groups) not in (2, 3) or any(len(g) > 8 for g in groups[:2]):
        return None
    branch = groups[2] if len(groups) == 3 else ""
    if len(branch) > 2:
        return None
    return normalise_digits(groups[0]), normalise_digits(groups[1]), branch.zfill(2) if branch else ""


class Society(models.Model):
    """The health insurance society (健康保険組合) itself."""

    insurer_number = models.CharField("保険者番号", max_length=8, unique=True, validators=[insurer_number_validator])
    name = models.CharField("保険者名称", max_length=100)
    address = models.CharField("所在地", max_length=200)
    phone = models.CharField("電話番号", max_length=20, blank=True)
    # Shown to members wherever a page or an e-mail says to contact the society.
    hours = models.CharField("受付時間", max_length=100, blank=True, default="平日 9:00〜17:00")

    class Meta:
        verbose_name = "保険者"
        verbose_name_plural = "保険者"

    def __str__(self) -> str:
        return self.name


class Employer(models.Model):
    """An employer office (事業所): certificates go out to members via it."""

    society = models.ForeignKey(Society, verbose_name=_("保険者"), on_delete=models.PROTECT, related_name="employers")
    code = models.CharField("事業所番号", max_length=16)
    name = models.CharField("事業所名称", max_length=100)
    postal_code = models.CharField("郵便番号", max_length=8, blank=True)
    address = models.CharField("所在地", max_length=200, blank=True)

    class Meta:
        verbose_name = "事業所"
        verbose_name_plural = "事業所"
        constraints = [models.UniqueConstraint(fields=["society", "code"], name="employer_code_unique")]

    def __str__(self) -> str:
        return self.name


class Household(models.Model):
    """An insured person (被保険者) and their dependents (被扶養者), sharing 記号・番号."""

    society = models.ForeignKey(Society, verbose_name=_("保険者"), on_delete=models.PROTECT, related_name="households")
    employer = models.ForeignKey(
        Employer, verbose_name="事業所", on_delete=models.PROTECT, related_name="households", null=True, blank=True
    )
    # 記号・番号: digits only, stored without leading zeros (not significant).
    symbol = models.CharField("記号", max_length=8, validators=[symbol_number_validator])
    number = models.CharField("番号", max_length=8, validators=[symbol_number_validator])
    # 任意継続: certificates go to the member by post, not via the employer.
    voluntary_continuation = models.BooleanField("任意継続", default=False)
    # 任意継続 lasts 2 years at the most: its last day (inclusive) caps a 資格確認書 (R8).
    voluntary_continuation_ends_on = models.DateField("任意継続の終了日", null=True, blank=True)
    postal_code = models.CharField("郵便番号", max_length=8, blank=True)
    address = models.CharField("住所", max_length=200, blank=True)
    email_reminders = models.BooleanField("期限のお知らせメールを受け取る", default=True)

    class Meta:
        verbose_name = "世帯"
        verbose_name_plural = "世帯"
        constraints = [
            models.UniqueConstraint(fields=["society", "symbol", "number"], name="household_symbol_number_unique")
        ]

    def __str__(self) -> str:
        insured = self.insured_person
        return f"{insured.name}の世帯" if insured else f"世帯 #{self.pk}"

    def save(self, *args, **kwargs):
        self.symbol = normalise_digits(self.symbol)
        self.number = normalise_digits(self.number)
        super().save(*args, **kwargs)

    @property
    def insured_person(self) -> "Person | None":
        return next((p for p in self.persons.all() if p.relationship == Person.Relationship.SELF), None)

    @property
    def audit_household(self) -> "Household":
        return self


def search_text_of(family_name: str, given_name: str, family_name_kana: str, given_name_kana: str,
                   print_name: str = "") -> str:
    """A person's ``search_text``, the one rule for ``Person.fill_search_text`` and the roster
    import's staged rows. Family and given names run together: 高橋陽翔 and 高橋 陽翔 both find
    them (a search term never holds a space, and a part of a name is still a substring)."""
    return fold_all(f"{family_name}{given_name}", f"{family_name_kana}{given_name_kana}", print_name)

class Person(models.Model):
    """An insured person (被保険者) or a dependent (被扶養者)."""

    class Relationship(models.TextChoices):
        SELF = "self", _("本人")
        SPOUSE = "spouse", _("配偶者")
        CHILD = "child", _("子")
        PARENT = "parent", _("父母")
        OTHER = "other", _("その他")

    class Sex(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")

    household = models.ForeignKey(Household, verbose_name=_("世帯"), on_delete=models.PROTECT, related_name="persons")
    branch_number = models.CharField("枝番", max_length=2, validators=[branch_number_validator])
    relationship = models.CharField("続柄", max_length=8, choices=Relationship.choices)
    family_name = models.CharField("氏", max_length=40)
    given_name = models.CharField("名", max_length=40)
    family_name_kana = models.CharField("氏（カナ）", max_length=60)
    given_name_kana = models.CharField("名（カナ）", max_length=60)
    # The name as printed on documents, in JIS level 1/2 characters only: 外字 do not print.
    print_name = models.CharField("印字用氏名", max_length=80, blank=True)
    sex = models.CharField("性別", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("生年月日")
    eligible_from = models.DateField("資格取得日（扶養認定日）")
    eligible_until = models.DateField("資格喪失日", null=True, blank=True)
    # 資格確認書発行要否 on the enrolment form (R6.2).
    certificate_wanted = models.BooleanField("資格確認書の発行希望", default=False)
    # 個人番号登録: whether the society has registered this person's My Number with the
    # national system (R6.4). A flag from the roster; the number itself is never seen.
    my_number_registered = models.BooleanField("個人番号登録済み", default=True)
    # Names and kana folded for search (core.kana): kept by save() and fill_search_text();
    # a trigram index makes a search of any part of it fast (eligibility/0005).
    search_text = models.CharField("検索用の氏名", max_length=400, blank=True, editable=False)

    SEARCHED_FIELDS = ("family_name", "given_name", "family_name_kana", "given_name_kana", "print_name")

    class Meta:
        verbose_name = "加入者"
        verbose_name_plural = "加入者"
        constraints = [models.UniqueConstraint(fields=["household", "branch_number"], name="person_branch_unique")]
        indexes = [
            models.Index(fields=["family_name_kana", "given_name_kana"]),
            models.Index(fields=["eligible_until"]),
            models.Index(fields=["birth_date"]),  # the admin's search by date of birth
            # R6 bases 2 and 4 are a few people among a million: small partial indexes find them.
            models.Index(fields=["id"], condition=models.Q(certificate_wanted=True), name="person_certificate_wanted"),
            models.Index(fields=["id"], condition=models.Q(my_number_registered=False), name="person_no_my_number"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.fill_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(update_fields) & set(self.SEARCHED_FIELDS):
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    def fill_search_text(self) -> "Person":
        """Set ``search_text`` from the names. Call it before ``bulk_create`` (and add
        ``search_text`` to a ``bulk_update``'s fields when a name changes): bulk writes
        skip ``save()``."""
        self.search_text = search_text_of(self.family_name, self.given_name, self.family_name_kana,
                                          self.given_name_kana, self.print_name)
        return self

    @property
    def name(self) -> str:
        return f"{self.family_name} {self.given_name}"

    name.fget.short_description = _("氏名")  # the column title in admin lists

    @property
    def name_kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}"

    name_kana.fget.short_description = _("氏名（カナ）")

    @property
    def name_for_print(self) -> str:
        return self.print_name or self.name

    @property
    def is_insured_person(self) -> bool:
        return self.relationship == self.Relationship.SELF

    @property
    def audit_household(self) -> Household:
        return self.household

    @property
    def turns_75_on(self) -> date:
        """R11: the day eligibility ends whatever the roster says (後期高齢者医療)."""
        return rules.turns_75_on(self.birth_date)

    def is_eligible_on(self, day: date) -> bool:
        """資格: from 資格取得日 to ``last_eligible_day`` inclusive (資格喪失日 and the 75th
        birthday (R11) are the first days without it; 任意継続's last day is the last with it).
        Needs ``household``; ``selectors.eligible_on`` is the same in SQL."""
        return self.eligible_from <= day <= self.last_eligible_day()

    def last_eligible_day(self) -> date:
        """The last day of eligibility known today (inclusive): the day before 資格喪失日,
        the day before the 75th birthday, or 任意継続's end — whichever comes first.
        Needs ``household`` (for 任意継続)."""
        return self.eligibility_end().last_day

    def eligibility_end(self) -> rules.EligibilityEnd:
        """``rules.eligibility_end`` with this person's dates: when and why eligibility ends."""
        household = self.household
        return rules.eligibility_end(
            birth_date=self.birth_date, eligible_until=self.eligible_until,
            voluntary_continuation_ends_on=(household.voluntary_continuation_ends_on
                                            if household.voluntary_continuation else None),
        )

    def age_on(self, day: date) -> int:
        return rules.age_on(self.birth_date, day)


class CardFacts(models.Model):
    """What we know of a person's My Number card: dates and statuses, never the number.

    The three ``*_on`` fields at the bottom are derived by ``rules`` on save (and
    by ``derive()`` before a bulk insert) so that set-based queries can compare
    them with today; nothing else computes them.
    """

    class EcertSource(models.TextChoices):
        UNKNOWN = "unknown", _("不明")
        STATED = "stated", _("本人が確認した日付")
        SAME_AS_CARD = "same_as_card", _("カードの有効期限と同じ（候補）")
        FIVE_YEARS_BEFORE = "five_years_before", _("カードの有効期限の5年前（候補）")

    class RegistrationSource(models.TextChoices):
        MEMBER = "member", _("本人の申告")
        NATIONAL_FILE = "national_file", _("月次の登録状況ファイル")
        STAFF = "staff", _("職員の入力")

    person = models.OneToOneField(
        Person, verbose_name=_("加入者"), on_delete=models.CASCADE, related_name="card", primary_key=True
    )
    # None: nobody has said yet (R5 ``unknown``) — a roster row creates card facts with it.
    has_card = models.BooleanField("マイナンバーカードを持っている", null=True, default=None)
    card_expires_on = models.DateField("カードの有効期限（券面記載）", null=True, blank=True)
    ecert_expires_on = models.DateField("電子証明書の有効期限", null=True, blank=True)
    ecert_source = models.CharField(
        "電子証明書の有効期限の根拠", max_length=20, choices=EcertSource.choices, default=EcertSource.UNKNOWN
    )
    registered = models.BooleanField("健康保険証として利用登録済み", default=False)
    registration_source = models.CharField(
        "利用登録の情報源", max_length=16, choices=RegistrationSource.choices, blank=True
    )
    registration_as_of = models.DateField("利用登録の確認日", null=True, blank=True)
    uses_smartphone = models.BooleanField("スマートフォンで利用", default=False)
    updated_at = models.DateTimeField("更新日時", default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="更新者", null=True, blank=True, on_delete=models.SET_NULL
    )

    # Derived from the dates above by rules (R3–R5); null when no expiry is known.
    effective_expires_on = models.DateField("有効期限（早い方）", null=True, blank=True, editable=False)
    renewal_opens_on = models.DateField("更新開始日", null=True, blank=True, editable=False)
    grace_ends_on = models.DateField("猶予期間の終了日", null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "カード情報"
        verbose_name_plural = "カード情報"
        indexes = [
            models.Index(fields=["renewal_opens_on"]),
            models.Index(fields=["effective_expires_on"]),
            models.Index(fields=["grace_ends_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.person}のカード情報"

    def save(self, *args, **kwargs):
        self.derive()
        super().save(*args, **kwargs)

    def derive(self) -> "CardFacts":
        expiry = rules.effective_expiry(ecert_expires_on=self.ecert_expires_on, card_expires_on=self.card_expires_on)
        if not self.has_card:
            expiry = None
        self.effective_expires_on = expiry
        self.renewal_opens_on = rules.renewal_opens(expiry) if expiry else None
        self.grace_ends_on = rules.grace_ends(expiry) if expiry else None
        return self

    def status_on(self, today: date) -> rules.Status:
        return rules.insurance_status(
            has_card=self.has_card,
            registered=self.registered,
            ecert_expires_on=self.ecert_expires_on,
            card_expires_on=self.card_expires_on,
            today=today,
        )

    @property
    def audit_household(self) -> Household:
        return self.person.household


class MemberLink(models.Model):
    """A login linked to the person it belongs to.

    An insured person's login sees the whole household; a dependent's login (an
    adult dependent who linked their own) sees only that dependent.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("ログイン"), on_delete=models.CASCADE, related_name="member_link"
    )
    person = models.ForeignKey(Person, verbose_name=_("加入者"), on_delete=models.CASCADE, related_name="member_links")
    linked_at = models.DateTimeField("連携日時", auto_now_add=True)

    class Meta:
        verbose_name = "ログイン連携"
        verbose_name_plural = "ログイン連携"

    def __str__(self) -> str:
        return f"{self.user} → {self.person}"

    @property
    def sees_household(self) -> bool:
        return self.person.is_insured_person


class ActivationCode(models.Model):
    """A one-time code printed on a postcard, to link a login to a person.

    Only a hash is stored; the code itself is shown once to staff for printing.
    """

    person = models.ForeignKey(
        Person, verbose_name=_("加入者"), on_delete=models.CASCADE, related_name="activation_codes"
    )
    code_hash = models.CharField(_("コードのハッシュ"), max_length=128, unique=True)
    created_at = models.DateTimeField("発行日時", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("発行した職員"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField("有効期限")
    used_at = models.DateTimeField("使用日時", null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("使用したログイン"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "連携コード"
        verbose_name_plural = "連携コード"

    def __str__(self) -> str:
        return f"{self.person}の連携コード"


class CardFactsChange(models.Model):
    """One change of a person's card facts: who, when, and the values before and after.

    Written only by ``services.update_card_facts``; never edited or deleted, so a
    member (and staff) can see how the facts came to be what they are.
    """

    class Source(models.TextChoices):
        MEMBER = "member", _("本人・家族")
        STAFF = "staff", _("職員")
        NATIONAL_FILE = "national_file", _("月次の登録状況ファイル")

    person = models.ForeignKey(Person, verbose_name=_("加入者"), on_delete=models.CASCADE, related_name="card_changes")
    changed_at = models.DateTimeField("変更日時", default=timezone.now, db_index=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="変更者", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField("変更元", max_length=16, choices=Source.choices, default=Source.MEMBER)
    # {field: value} of the fields that changed, dates as ISO strings.
    before = models.JSONField("変更前", default=dict)
    after = models.JSONField("変更後", default=dict)

    class Meta:
        verbose_name = "カード情報の変更履歴"
        verbose_name_plural = "カード情報の変更履歴"
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["person", "-changed_at"])]

    def __str__(self) -> str:
        return f"{self.person} {self.changed_at:%Y-%m-%d %H:%M}"

    @property
    def changed_labels(self) -> list[str]:
        """The changed fields by their Japanese names, for the history table."""
        return [str(CardFacts._meta.get_field(name).verbose_name) for name in self.after]


class EmployerContact(models.Model):
    """事業所担当者 (RULES.md R12): a login of an employer's HR, tied to one or more 事業所.

    Invited by staff (``eligibility.services.employer_contact_invite``), signs in with a
    password and TOTP like staff, removed by staff (the login is deactivated, never deleted:
    the audit log names it). Sees only its own 事業所's people, through the employer pages.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("ログイン"), on_delete=models.PROTECT, related_name="employer_contact"
    )
    name = models.CharField(_("担当者の氏名"), max_length=80)
    employers = models.ManyToManyField(Employer, verbose_name=_("担当する事業所"), related_name="contacts")
    invited_at = models.DateTimeField(_("招待日時"), default=timezone.now)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("招待した職員"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    removed_at = models.DateTimeField(_("削除日時"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("削除した職員"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("事業所担当者")
        verbose_name_plural = _("事業所担当者")

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.removed_at is None and self.user.is_active
