"""District profiles: a typed, validated config object (defaults in one place).

A profile is a TOML file under ``config/`` (``changning`` is the default). Every
policy number of ``policy.md`` is a field here with its default; a profile only
states what differs. A bad value fails at load time with the field named.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from auditor.core.errors import AuditInputError
from auditor.core.vocab import LEVEL_SUFFIXES

CONFIG_DIR = Path(str(files("auditor.profiles")))  # the top-level config/ folder, shipped in the wheel
DEFAULT_PROFILE = "changning"

# written out so mypy can check them; tests/test_config.py keeps them equal to vocab's keys
Program = Literal["dibao", "tekun", "dibao_edge", "rigid_expense", "temporary", "medical", "education",
                  "housing", "employment", "disability"]
Relation = Literal["spouse", "parent", "child", "sibling", "grandparent", "grandchild", "parent_in_law",
                   "child_in_law", "sibling_in_law", "cousin", "other"]


class SampleSettings(BaseModel):
    """双随机 draw: which cases are pulled for the month's archive review."""

    model_config = ConfigDict(extra="forbid")
    seed: str = Field("changning-2026", min_length=1, description="published seed")
    cases_per_street: int = Field(3, ge=0)
    reviewer_roles: list[str] = ["civil_affairs"]


class ScheduleSettings(BaseModel):
    """The monthly scheduler (``run_audit.py schedule``).

    The drop for month M arrives as ``<inbox>/M/`` (e.g. ``inbox/2026-10/``); it
    is ready when it holds the ``ready_marker`` file, or, without one, every
    required table. From ``day`` of the following month the audit of M runs at
    ``at`` (local time) once per month (a month with a stored run is done).
    """

    model_config = ConfigDict(extra="forbid")
    inbox: str = "inbox"
    out: str = "out"
    db: str | None = None
    day: int = Field(5, ge=1, le=28, description="day of month M+1 from which M is audited")
    at: str = Field("02:00", pattern=r"^\d{2}:\d{2}$")
    ready_marker: str = "READY"
    retries: int = Field(3, ge=0, description="extra attempts after a failed run")
    retry_delay_seconds: float = Field(300, ge=0)
    quarterly_months: list[int] = [3, 6, 9, 12]
    reminders_dir: str = "out/reminders"


class AddressSettings(BaseModel):
    """The district's place names, dropped from the front of an address (data-contract
    "Address normalisation"). Per level, its full name first, then its short forms; a
    province-level city (上海市) names no separate city.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    province: list[str] = ["上海市", "上海"]
    city: list[str] = []
    district: list[str] = ["长宁区", "长宁"]

    @field_validator("province", "city", "district")
    @classmethod
    def _full_then_short(cls, v: list[str]) -> list[str]:
        if not v:
            return v
        full, *short = v
        if not full.endswith(LEVEL_SUFFIXES) or len(full) < 2:
            raise ValueError(f"first name {full!r} must be the full name ending in {'/'.join(LEVEL_SUFFIXES)}")
        for name in short:
            if not (name and full.startswith(name) and len(name) < len(full)):
                raise ValueError(f"short form {name!r} must be a shorter beginning of {full!r}")
        return v

    def levels(self) -> tuple[tuple[str, ...], ...]:
        """Spellings per level (province, city, district), for ``normalize.address_key``."""
        return tuple(self.province), tuple(self.city), tuple(self.district)


class WebSettings(BaseModel):
    """Accounts and sessions of the web application (``serve``): defaults fit a 等保 2.0 level-3 review."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    min_length: Annotated[int, Field(ge=8, description="shortest password")] = 12
    min_classes: Annotated[int, Field(ge=1, le=4, description="of lower, upper, digits, other characters")] = 3
    max_failures: Annotated[int, Field(ge=1, description="failed sign-ins in a row that lock the account")] = 5
    lockout_minutes: Annotated[int, Field(ge=1)] = 15
    idle_minutes: Annotated[int, Field(ge=1, description="a session unused this long ends")] = 30
    absolute_hours: Annotated[float, Field(gt=0, description="a session ends this long after sign-in")] = 8
    # a month's drop uploaded in the browser (a zip or the table files): the upload, and what a zip unpacks to
    drop_upload_mb: Annotated[int, Field(ge=1, le=10240, description="largest upload of a drop")] = 200
    drop_unpacked_mb: Annotated[int, Field(ge=1, le=102400, description="largest drop once unzipped")] = 2048
    # where uploaded drops and runs started in the browser live (<runs_dir>/<job>/drop, out, job.json),
    # owner-only; default: a "web-runs" folder beside the SQLite store file, for PostgreSQL out/web-runs
    runs_dir: str | None = None
    # an uploaded drop (the raw exports) is deleted this many days after its run ended (0: right after
    # the next run; None: kept); the run's record, outputs and snapshot stay (the snapshot has its own retention)
    upload_retention_days: Annotated[int | None, Field(ge=0, description="days an uploaded drop is kept")] = 30

    @model_validator(mode="after")
    def _unpacked_holds_upload(self) -> WebSettings:
        if self.drop_unpacked_mb < self.drop_upload_mb:
            raise ValueError("drop_unpacked_mb must be at least drop_upload_mb")
        return self


class Profile(BaseModel):
    """All parameters the rules read. Field names are the rule parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    district: str
    streets: list[str] = []

    # R — reconciliation
    disbursement_deadline_day: int = Field(10, ge=1, le=28)
    idle_fund_ratio: Decimal = Field(Decimal("0.05"), ge=0, le=1)

    # E — eligibility and dynamic management
    means_tested_programs: list[Program] = ["dibao", "tekun", "dibao_edge"]
    exempt_vehicle_types: list[str] = ["残疾人机动轮椅车"]
    max_properties: int = Field(1, ge=0)
    employment_income_floor: Decimal = Field(Decimal("2000"), ge=0)
    exclusive_programs: list[tuple[Program, Program]] = [
        ("dibao", "tekun"), ("dibao", "dibao"), ("tekun", "tekun"), ("dibao_edge", "dibao"),
    ]
    tekun_minor_age_limit: int = Field(18, ge=1, le=30)
    phase_out_months: int = Field(12, ge=1)
    small_amount_limit: Decimal = Field(Decimal("500"), ge=0)
    decision_working_days: int = Field(20, ge=1)
    decision_working_days_special: int = Field(45, ge=1)

    # S — approved amounts and standards
    dibao_supplement_ratio: Decimal = Field(Decimal("0"), ge=0, le=10)
    tekun_floor_ratio: Decimal | None = Field(None, gt=0, le=10)

    # K / C / D — relationships, custody, dishonesty
    close_relations: list[Relation] = ["spouse", "parent", "child", "sibling", "grandparent", "grandchild"]
    relative_scope: Literal["street", "community"] = "street"
    cluster_min_cases: int = Field(3, ge=2)
    recovery_days: int = Field(90, ge=0)
    report_days: int = Field(30, ge=0)

    sample: SampleSettings = SampleSettings()
    # follow-up: default days a street has to rectify an assigned finding
    rectification_days: int = Field(30, ge=1)
    schedule: ScheduleSettings = ScheduleSettings()
    # extra header spellings of a district's exports: table -> {header: canonical column}
    header_aliases: dict[str, dict[str, str]] = {}
    # place names dropped from the front of addresses when comparing dwellings
    address: AddressSettings = Field(AddressSettings(), validate_default=True)
    # the access log's HMAC key on the machine running the auditor (0600, folder 0700); the
    # anchors sit beside it. Relative paths are taken from the working directory.
    access_log_key: str = "out/keys/access-log.key"
    # the web application's password policy, lockout and session limits
    web: WebSettings = WebSettings()
    # each run's normalised tables (Parquet) go to <snapshot_dir>/<run_id>/; default: a "snapshots"
    # folder beside the SQLite store file, for PostgreSQL out/snapshots under the working directory
    snapshot_dir: str | None = None
    # snapshots of months more than this many months before a run's month are deleted (None: kept)
    snapshot_retention_months: int | None = Field(24, ge=0)
    # out-of-core loading: a Parquet table of more rows than this is validated in batches of this
    # many rows and kept on disk (owner-only temporary folder), not in memory; None: all in memory.
    # Default: a province's payments, ledger and members (a city's largest table has ~2 M rows: in memory)
    stream_above_rows: int | None = Field(5_000_000, ge=1000)

    @field_validator("idle_fund_ratio", "employment_income_floor", "small_amount_limit",
                     "dibao_supplement_ratio", "tekun_floor_ratio")
    @classmethod
    def _two_decimals(cls, v: Decimal | None) -> Decimal | None:
        if v is not None and v.as_tuple().exponent < -4:  # type: ignore[operator]
            raise ValueError("at most 4 decimal places")
        return v

    @field_validator("access_log_key")
    @classmethod
    def _key_file(cls, v: str) -> str:
        if not v.strip() or any(c in v for c in "\0\n\r") or v.endswith(("/", "\\")) \
                or Path(v).name in (".", ".."):
            raise ValueError("must be the path of a file, e.g. out/keys/access-log.key")
        return v

    @field_validator("header_aliases")
    @classmethod
    def _known_tables(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        from auditor.ingest.schema import TABLES

        for table, mapping in v.items():
            if table not in TABLES:
                raise ValueError(f"unknown table {table!r}")
            known = {c.name for c in TABLES[table].columns}
            for header, column in mapping.items():
                if column not in known:
                    raise ValueError(f"{table}: header {header!r} maps to unknown column {column!r}")
        return v

    @field_validator("address")
    @classmethod
    def _names_the_district(cls, v: AddressSettings, info: ValidationInfo) -> AddressSettings:
        district = info.data.get("district", "")
        if not v.district or not district.endswith(v.district[0]):
            raise ValueError(f"address.district must name the profile's district {district!r} (full name first)")
        return v


def load_profile(name_or_path: str | None = None) -> Profile:
    """Load a profile by name (``config/<name>.toml``) or by path; fail clearly."""
    ref = name_or_path or DEFAULT_PROFILE
    path = Path(ref)
    if not (path.suffix == ".toml" and path.exists()):
        path = CONFIG_DIR / f"{ref}.toml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in CONFIG_DIR.glob("*.toml")))
        raise AuditInputError(f"配置 {ref} 不存在 (config profile not found; known: {known})")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise AuditInputError(f"配置文件 {path} 格式错误: {exc}") from None
    try:
        return Profile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise AuditInputError(f"配置文件 {path} 参数无效 (invalid parameter): {problems}") from None
