"""A month's drop delivered in the browser, and the runs started there (``jobs``).

**Upload**: a zip or the table files themselves. Only the contract's table files are accepted
(``cases.csv``, ``救助案件.xlsx``, ``payments.parquet``: the names ``loader.find_table_file`` reads),
one file per table, every required table present. A zip member whose path leaves the folder (``..``,
absolute, a drive letter, a symlink) or that is encrypted refuses the whole zip; what a zip unpacks to
is bounded (``web.drop_unpacked_mb``) by the bytes actually inflated, not by the sizes it declares.
Member names of a zip made on Chinese Windows (GBK, no UTF-8 flag) are read as GBK.

**Jobs**: ``<runs root>/<job id>/`` (0700) holds ``drop/`` (the uploaded files, 0600), ``out/`` (the
run's outputs) and ``job.json``: month, who, where the drop is, the status (``starting``, ``running``,
``ok``, ``failed``; ``busy`` or ``refused`` before the lock, such a job is then discarded), the stage log
and the one-line reason of a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import uuid
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from auditor.core.config import Profile
from auditor.core.errors import AuditInputError
from auditor.core.private import private_dir, private_open, write_private_text
from auditor.ingest.loader import EXTENSIONS
from auditor.ingest.schema import REQUIRED_TABLES, TABLES
from auditor.jobs.publish import process_alive
from auditor.jobs.scheduler import MONTH_DIR, drop_ready

SERVER_DEFAULT = Path("out/web-runs")  # a store that is not a SQLite file (PostgreSQL)
JOB_ID = re.compile(r"^[0-9a-f]{12}$")
MAX_MEMBERS = 200  # entries of a zip (a zip of a million empty files is a bomb too)
IGNORED = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")  # what archivers add on their own
STAGES = {"load": "读取数据", "checks": "运行检查规则", "store": "写入数据库", "outputs": "生成报告文件",
          "snapshot": "保存数据快照"}
CHUNK = 1 << 20


def runs_root(profile: Profile, db_url: str | None) -> Path:
    """Where uploaded drops and browser-started runs live (``web.runs_dir``, see ``WebSettings``)."""
    if profile.web.runs_dir:
        return Path(profile.web.runs_dir)
    url = make_url(db_url or "sqlite:///out/auditor.db")
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / "web-runs"
    return SERVER_DEFAULT


def table_of(name: str) -> str | None:
    """The contract table a file named ``name`` holds (``救助案件.CSV`` -> ``cases``), else None."""
    path = Path(name)
    if path.suffix.lower() not in EXTENSIONS:
        return None
    stem = path.stem
    return next((t.name for t in TABLES.values() if stem.lower() == t.name.lower() or stem == t.label), None)


def _escapes(name: str) -> bool:
    """A path that would leave the drop folder: absolute, with a drive letter, or with ``..``."""
    text = name.replace("\\", "/")
    return text.startswith("/") or bool(re.match(r"^[A-Za-z]:", text)) or ".." in text.split("/")


def _zip_name(info: zipfile.ZipInfo) -> str:
    if info.flag_bits & 0x800:  # the archiver said UTF-8
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _known(name: str, taken: dict[str, str]) -> str:
    """The table of file ``name`` (refusing unknown names and a second file of one table)."""
    table = table_of(name)
    if table is None:
        raise AuditInputError(
            f"文件 {name} 不是数据表文件：文件名应为数据表名（如 cases.csv、救助案件.xlsx、payments.parquet）"
            f" (not a table file of the data contract)")
    if table in taken:
        raise AuditInputError(f"数据表 {table}（{TABLES[table].label}）有两个文件：{taken[table]} 和 {name}，"
                              f"请只保留一个 (two files for one table)")
    return table


def _unzip(content: bytes, dest: Path, limit: int) -> dict[str, str]:
    try:
        archive = zipfile.ZipFile(BytesIO(content))
    except zipfile.BadZipFile:
        raise AuditInputError("压缩包已损坏或不是 zip 文件 (not a readable zip file)") from None
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise AuditInputError(f"压缩包中的文件过多（{len(infos)} 个，最多 {MAX_MEMBERS} 个）(too many entries)")
    members: list[tuple[zipfile.ZipInfo, str]] = []
    taken: dict[str, str] = {}
    for info in infos:
        name = _zip_name(info)
        if _escapes(name):
            raise AuditInputError(f"压缩包中的 {name} 路径指向数据目录之外，已拒绝整个压缩包 "
                                  f"(archive path escapes the folder)")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise AuditInputError(f"压缩包中的 {name} 是符号链接，已拒绝整个压缩包 (symbolic link in archive)")
        base = name.replace("\\", "/").rstrip("/").rpartition("/")[2]
        if info.is_dir() or name.startswith(IGNORED[0]) or base in IGNORED or base.startswith("._"):
            continue
        if info.flag_bits & 0x1:
            raise AuditInputError(f"压缩包中的 {name} 已加密，请上传未加密的压缩包 (encrypted member)")
        taken[_known(base, taken)] = base
        members.append((info, base))
    if sum(i.file_size for i, _ in members) > limit:
        raise AuditInputError(_too_big(limit))
    written = 0
    try:
        for info, base in members:
            with archive.open(info) as src, private_open(dest / base, "wb") as out:
                while chunk := src.read(CHUNK):
                    written += len(chunk)
                    if written > limit:  # the declared sizes lied: a zip bomb
                        raise AuditInputError(_too_big(limit))
                    out.write(chunk)
    except (zipfile.BadZipFile, NotImplementedError, EOFError) as exc:
        raise AuditInputError(f"压缩包已损坏或使用了不支持的压缩方式：{exc} (unreadable zip member)") from None
    return taken


def _too_big(limit: int) -> str:
    return f"压缩包解压后超过 {limit // 2**20} MB，已拒绝 (unpacked size over the limit)"


def unpack(files: list[tuple[str, bytes]], dest: Path, *, unpacked_limit: int) -> dict[str, str]:
    """Write the uploaded drop (one zip, or table files) into ``dest`` (0700, files 0600); table -> file
    name. Refuses (``AuditInputError``, in Chinese) anything but a complete drop of known table files."""
    files = [(name, content) for name, content in files if name or content]
    if not files:
        raise AuditInputError("请选择要上传的数据文件：一个 zip 压缩包，或各数据表文件 (choose files)")
    private_dir(dest)
    zips = [f for f in files if f[0].lower().endswith(".zip")]
    if zips and len(files) > 1:
        raise AuditInputError("请只上传一个 zip 压缩包，或只上传数据表文件，不要混合 (one zip or the table files)")
    if zips:
        taken = _unzip(zips[0][1], dest, unpacked_limit)
    else:
        taken = {}
        for name, content in files:
            if _escapes(name) or "/" in name or "\\" in name:
                raise AuditInputError(f"文件名 {name} 含路径，已拒绝 (file name with a path)")
            taken[_known(name, taken)] = name
            with private_open(dest / name, "wb") as out:
                out.write(content)
    missing = [f"{t}（{TABLES[t].label}）" for t in REQUIRED_TABLES if t not in taken]
    if missing:
        raise AuditInputError(f"数据包缺少必需的数据表：{'、'.join(missing)} (missing required tables)")
    return taken


@dataclass(frozen=True)
class InboxMonth:
    month: str
    folder: Path
    ready: bool


def inbox_months(profile: Profile) -> list[InboxMonth]:
    """The month folders of the scheduler's inbox (newest first), each with whether it is ready."""
    inbox = Path(profile.schedule.inbox)
    if not inbox.is_dir():
        return []
    folders = sorted((p for p in inbox.iterdir() if p.is_dir() and MONTH_DIR.match(p.name)), reverse=True)
    return [InboxMonth(p.name, p, drop_ready(p, profile.schedule.ready_marker)) for p in folders]


@dataclass
class Stage:
    name: str
    label: str
    state: str = "waiting"  # waiting, running, done
    total: int | None = None
    done: int = 0
    last: str = ""
    seconds: float | None = None


@dataclass
class Job:
    """One run started in the browser, kept as ``job.json`` in its folder."""

    job_id: str
    folder: Path
    month: str
    user: str
    source: str  # upload or inbox
    data_dir: str
    created_at: str
    status: str = "starting"
    reason: str = ""
    run_id: int | None = None
    finished_at: str = ""
    pid: int = field(default_factory=os.getpid)
    drop_deleted_at: str = ""  # when the uploaded drop was deleted (retention)
    files: dict[str, str] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=lambda: [Stage(n, label) for n, label in STAGES.items()])

    @property
    def out_dir(self) -> Path:
        return self.folder / "out"

    @property
    def state(self) -> str:
        """The status, or ``interrupted`` when the process running it has gone."""
        if self.status in ("starting", "running") and not process_alive(self.pid):
            return "interrupted"
        return self.status

    def save(self) -> None:
        data = asdict(self) | {"folder": str(self.folder)}
        tmp = self.folder / f".job.{uuid.uuid4().hex[:8]}.json"
        write_private_text(tmp, json.dumps(data, ensure_ascii=False, indent=1))
        os.replace(tmp, self.folder / "job.json")

    def listen(self, kind: str, name: str, value: float | None) -> None:
        """A ``Stages`` listener: keep the stage log up to date in ``job.json``."""
        running = next((s for s in self.stages if s.state == "running"), None)
        if kind == "start":
            stage = next((s for s in self.stages if s.name == name), None)
            if stage is None:
                stage = Stage(name, name)
                self.stages.append(stage)
            stage.state, stage.total = "running", int(value) if value else None
        elif kind == "step" and running is not None:
            running.done, running.last = running.done + 1, name
        elif kind == "done":
            stage = next(s for s in self.stages if s.name == name)
            stage.state, stage.seconds = "done", value
        self.save()

    def finish(self, status: str, *, reason: str = "", run_id: int | None = None) -> None:
        self.status, self.reason, self.run_id = status, reason, run_id
        self.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.save()


def new_job(root: Path, *, month: str, user: str, source: str, data_dir: Path | None = None) -> Job:
    """A new job folder under ``root`` (0700); an upload's drop goes to its ``drop/``."""
    job_id = uuid.uuid4().hex[:12]
    folder = private_dir(root) / job_id
    private_dir(folder)
    job = Job(job_id, folder, month, user, source, str(data_dir or folder / "drop"),
              datetime.now(UTC).isoformat(timespec="seconds"))
    job.save()
    return job


def discard(job: Job) -> None:
    """Delete a job that never ran (its uploaded drop with it)."""
    shutil.rmtree(job.folder, ignore_errors=True)


def _job(folder: Path) -> Job:
    data: dict[str, Any] = json.loads((folder / "job.json").read_text("utf-8"))
    data["folder"] = folder
    data["stages"] = [Stage(**s) for s in data["stages"]]
    return Job(**data)


def load_job(root: Path, job_id: str) -> Job | None:
    if not JOB_ID.match(job_id) or not (root / job_id / "job.json").is_file():
        return None
    return _job(root / job_id)


def list_jobs(root: Path) -> list[Job]:
    """Every job under ``root``, newest first."""
    if not root.is_dir():
        return []
    jobs = [_job(p) for p in root.iterdir() if JOB_ID.match(p.name) and (p / "job.json").is_file()]
    return sorted(jobs, key=lambda j: j.created_at, reverse=True)


def expired_uploads(root: Path, days: int | None, now: datetime | None = None) -> list[Job]:
    """Jobs whose uploaded drop is still on disk although their run ended more than ``days`` days ago
    (a run interrupted by a crash counts from when it started); none when ``days`` is None."""
    if days is None:
        return []
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    return [j for j in list_jobs(root)
            if j.source == "upload" and j.state not in ("starting", "running") and Path(j.data_dir).is_dir()
            and datetime.fromisoformat(j.finished_at or j.created_at) <= cutoff]


def delete_upload(job: Job) -> None:
    """Delete a job's uploaded drop (its record and outputs stay) and note when."""
    shutil.rmtree(job.data_dir, ignore_errors=True)
    job.drop_deleted_at = datetime.now(UTC).isoformat(timespec="seconds")
    job.save()
