"""The web application's front door: sign-in, lockout, forced password change, session expiry and
revocation, CSRF, security headers, the access log and what each role's home page counts.

On SQLite and PostgreSQL; time is the test's ``Clock``, never a sleep.
"""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from auditor import store
from auditor.core.config import WebSettings
from auditor.followup import accounts
from auditor.followup.accesslog import verify_log
from auditor.web.routes import ROUTES
from tests.followup_helpers import PID_A, PID_B, finding, run_cli, save
from tests.web_helpers import (  # noqa: F401
    PASSWORD,
    STREET,
    Clock,
    cheap_hashes,
    client,
    make_users,
    session_csrf,
    sign_in,
)

NEW = "Brand-new-pass-77"


def log_actions(db_url: str) -> list[tuple[str, str, str | None]]:
    engine = store.connect(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(store.access_log.c.actor, store.access_log.c.action, store.access_log.c.target)
                            .order_by(store.access_log.c.seq)).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_passwords_are_argon2id_and_the_policy_needs_length_and_three_classes():
    assert PasswordHasher().hash("x").startswith("$argon2id$")
    assert accounts.HASHER.hash("x").startswith("$argon2id$")
    web = WebSettings()
    assert accounts.policy_problem("Abcdefghijk1", web) is None  # 12 characters, 3 classes
    assert accounts.policy_problem("Abcdefghij1", web)  # 11
    assert accounts.policy_problem("abcdefghijk12", web)  # 2 classes
    assert accounts.policy_problem("abcdefghijk1!", web) is None  # lower, digit, other
    for _ in range(20):
        assert accounts.policy_problem(accounts.one_time_password(web), web) is None


def test_first_sign_in_must_change_the_one_time_password(db_url):
    make_users(db_url, must_change=True)
    c = client(db_url, Clock())
    r = sign_in(c, "bob")
    assert r.status_code == 303 and r.headers["location"] == "/password"
    assert c.get("/").headers["location"] == "/password"  # nothing else until it is changed
    assert c.get("/users").headers["location"] == "/password"
    token = session_csrf(c)
    for new, again, why in (("short-1A", "short-1A", "至少"), ("alllowercaseletters", "alllowercaseletters", "至少"),
                            (NEW, NEW + "x", "不一致"), (PASSWORD, PASSWORD, "不能与当前密码相同")):
        r = c.post("/password", data={"current": PASSWORD, "new": new, "again": again, "csrf": token})
        assert r.status_code == 400 and why in r.text
    r = c.post("/password", data={"current": "wrong", "new": NEW, "again": NEW, "csrf": token})
    assert r.status_code == 400 and "当前密码不正确" in r.text
    r = c.post("/password", data={"current": PASSWORD, "new": NEW, "again": NEW, "csrf": token})
    assert r.status_code == 303 and r.headers["location"] == "/"
    home = c.get("/")
    assert home.status_code == 200 and "街镇经办工作台" in home.text and STREET in home.text
    c.cookies.clear()
    assert sign_in(c, "bob").status_code == 401  # the one-time password is gone
    assert sign_in(c, "bob", NEW).headers["location"] == "/"


def test_five_failures_lock_the_account_for_fifteen_minutes(db_url):
    make_users(db_url)
    clock = Clock()
    c = client(db_url, clock)
    for _ in range(4):
        r = sign_in(c, "ole", "Wrong-password-1")
        assert r.status_code == 401 and "用户名或密码不正确" in r.text
    r = sign_in(c, "ole", "Wrong-password-1")
    assert r.status_code == 401 and "已锁定" in r.text
    r = sign_in(c, "ole")  # the right password does not open a locked account
    assert r.status_code == 401 and "已锁定" in r.text
    clock.advance(minutes=14, seconds=59)
    assert sign_in(c, "ole").status_code == 401
    clock.advance(seconds=2)
    assert sign_in(c, "ole").status_code == 303
    actions = [a for _, a, t in log_actions(db_url) if t == "ole" and a.startswith("web.")]
    assert actions == ["web.signin_failed"] * 5 + ["web.locked"] + ["web.signin_failed"] * 2 + ["web.signin"]


def test_a_success_resets_the_failure_count(db_url):
    make_users(db_url)
    c = client(db_url, Clock())
    for _ in range(4):
        sign_in(c, "ole", "Wrong-password-1")
    assert sign_in(c, "ole").status_code == 303
    c.cookies.clear()
    for _ in range(4):
        assert "用户名或密码不正确" in sign_in(c, "ole", "Wrong-password-1").text
    assert sign_in(c, "ole").status_code == 303


def test_unknown_names_and_wrong_passwords_get_the_same_answer(db_url):
    make_users(db_url)
    c = client(db_url, Clock())
    unknown, wrong = sign_in(c, "mallory", "Wrong-password-1"), sign_in(c, "ole", "Wrong-password-1")
    assert unknown.status_code == wrong.status_code == 401
    assert "用户名或密码不正确" in unknown.text and "用户名或密码不正确" in wrong.text


def test_idle_sessions_end_after_thirty_minutes(db_url):
    make_users(db_url)
    clock = Clock()
    c = client(db_url, clock)
    sign_in(c, "ivy")
    for _ in range(3):  # used every 29 minutes: stays alive
        clock.advance(minutes=29)
        assert c.get("/").status_code == 200
    clock.advance(minutes=30, seconds=1)
    r = c.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    clock.advance(seconds=1)
    assert c.get("/").status_code == 303  # an expired session does not come back


def test_sessions_end_eight_hours_after_sign_in_however_busy(db_url):
    make_users(db_url)
    clock = Clock()
    c = client(db_url, clock)
    sign_in(c, "ivy")
    for _ in range(16):
        clock.advance(minutes=29, seconds=59)
        assert c.get("/").status_code == 200
    clock.advance(seconds=16)  # 16 × 29:59 + 16 s = 8 h 0 min 0 s: still inside
    assert c.get("/").status_code == 200
    clock.advance(seconds=1)
    assert c.get("/").headers.get("location") == "/login"


def test_a_sign_in_deletes_sessions_past_their_absolute_lifetime(db_url):
    make_users(db_url)
    clock = Clock()
    c = client(db_url, clock)
    sign_in(c, "ivy")
    c.cookies.clear()
    clock.advance(hours=8, seconds=1)  # the first session can never come back now
    sign_in(c, "ivy")
    engine = store.connect(db_url)
    assert store.count_rows(engine, store.sessions) == 1  # only the new one is kept
    engine.dispose()


def test_a_hash_made_under_older_argon2_parameters_is_renewed_at_sign_in(db_url):
    from argon2 import PasswordHasher
    from sqlalchemy import select, update

    make_users(db_url)
    engine = store.connect(db_url)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024).hash(PASSWORD)
    with engine.begin() as conn:
        conn.execute(update(store.users).where(store.users.c.name == "ivy").values(password_hash=weak))
    assert sign_in(client(db_url, Clock()), "ivy").status_code == 303
    with engine.connect() as conn:
        renewed = conn.execute(select(store.users.c.password_hash).where(store.users.c.name == "ivy")).scalar_one()
    assert renewed != weak and not accounts.HASHER.check_needs_rehash(renewed)
    assert accounts.HASHER.verify(renewed, PASSWORD)
    engine.dispose()


def test_sign_out_revokes_the_session_server_side(db_url):
    make_users(db_url)
    c = client(db_url, Clock())
    sign_in(c, "ole")
    cookie = c.cookies.get("auditor_session")
    r = c.post("/logout", data={"csrf": session_csrf(c)})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    c.cookies.set("auditor_session", cookie)  # replaying the old cookie does not help
    assert c.get("/").headers["location"] == "/login"
    engine = store.connect(db_url)
    with engine.connect() as conn:
        assert conn.execute(select(store.sessions.c.revoked)).scalars().all() == [True]
    engine.dispose()


def test_disabling_a_user_ends_their_sessions_and_refuses_sign_in(db_url, capsys):
    make_users(db_url)
    clock = Clock()
    bob, alice = client(db_url, clock), client(db_url, clock)
    sign_in(bob, "bob")
    assert bob.get("/").status_code == 200
    sign_in(alice, "alice")
    r = alice.post("/users/bob/disable", data={"csrf": session_csrf(alice)})
    assert r.status_code == 200 and "已停用 bob" in r.text
    assert bob.get("/").headers["location"] == "/login"
    r = sign_in(bob, "bob")
    assert r.status_code == 401 and "已停用" in r.text
    code, _, err = run_cli(capsys, "findings", "list", "--db", db_url, "--user", "bob")
    assert code == 2 and "disabled" in err
    r = alice.post("/users/alice/disable", data={"csrf": session_csrf(alice)})
    assert r.status_code == 400 and "不能停用自己" in r.text


def test_a_reset_gives_a_new_one_time_password_and_ends_sessions(db_url):
    make_users(db_url)
    clock = Clock()
    ole, alice = client(db_url, clock), client(db_url, clock)
    sign_in(ole, "ole")
    sign_in(alice, "alice")
    r = alice.post("/users/ole/reset", data={"csrf": session_csrf(alice)})
    otp = re.search(r'otp-value">([^<]+)<', r.text).group(1)
    assert ole.get("/").headers["location"] == "/login"
    assert sign_in(ole, "ole").status_code == 401
    assert sign_in(ole, "ole", otp.replace("&amp;", "&")).headers["location"] == "/password"


def test_posts_without_the_sessions_csrf_token_are_refused(db_url):
    make_users(db_url)
    c = client(db_url, Clock())
    sign_in(c, "alice")
    for data in ({"name": "eve", "role": "office"}, {"name": "eve", "role": "office", "csrf": "forged"}):
        r = c.post("/users", data=data)
        assert r.status_code == 403 and "CSRF" in r.text
    other = client(db_url, Clock())
    sign_in(other, "ivy")
    r = c.post("/users", data={"name": "eve", "role": "office", "csrf": session_csrf(other)})  # another session's
    assert r.status_code == 403
    r = c.post("/logout", data={})
    assert r.status_code == 403 and c.get("/").status_code == 200  # still signed in
    engine = store.connect(db_url)
    assert accounts.get_account(engine, "eve") is None
    engine.dispose()
    assert [a for _, a, _ in log_actions(db_url)].count("web.csrf_rejected") == 4
    fresh = client(db_url, Clock())  # the sign-in form has its own token
    r = fresh.post("/login", data={"name": "alice", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 403 and "auditor_session" not in r.cookies


def test_security_headers_and_cookie_flags(db_url):
    make_users(db_url)
    c = client(db_url, Clock())
    r = sign_in(c, "alice")
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    for path in ("/login", "/", "/users", "/password"):
        h = c.get(path).headers
        assert "default-src 'self'" in h["content-security-policy"] and "frame-ancestors 'none'" in h[
            "content-security-policy"] and "unsafe-inline" not in h["content-security-policy"]
        assert h["x-frame-options"] == "DENY" and h["cache-control"] == "no-store"
        assert h["referrer-policy"] == "no-referrer" and h["x-content-type-options"] == "nosniff"
    css = c.get("/static/site.css")
    assert css.status_code == 200 and "no-store" not in css.headers.get("cache-control", "")
    secure = client(db_url, Clock(), base_url="https://auditor.example")
    assert "Secure" in sign_in(secure, "alice").headers["set-cookie"]


def test_pages_have_no_inline_script_or_style_and_every_form_carries_a_token(db_url):
    make_users(db_url)
    engine = store.connect(db_url)
    save(engine, "2026-10", finding(PID_A))  # a month, so the graph page carries its drawing's partial
    engine.dispose()
    c = client(db_url, Clock())
    pages = [c.get("/login").text]
    sign_in(c, "alice")
    answers = [c.get(p.path) for p in ROUTES if p.method == "GET" and "{" not in p.path]
    answers.append(c.get(f"/graph?person={PID_A}"))
    pages += [r.text for r in answers if r.headers["content-type"].startswith("text/html")]  # not /graph/data
    scripts = [re.findall(r"<script[^>]*>", html) for html in pages]
    assert [s for s in scripts if s] == [['<script src="/static/graph.js" defer>']]  # one page, a static file
    for html in pages:
        assert "</script>" not in html.replace('<script src="/static/graph.js" defer></script>', "")
        assert " style=" not in html and "http://" not in html and "https://" not in html
        forms = re.findall(r"<form\b.*?</form>", html, flags=re.S)
        posts = [f for f in forms if 'method="post"' in f]  # a GET form (filters) must not carry the token
        assert posts and all('name="csrf"' in f for f in posts)
        assert not any('name="csrf"' in f for f in forms if 'method="get"' in f)


def test_every_sign_in_failure_lockout_sign_out_and_view_is_on_the_verified_log(db_url):
    make_users(db_url)
    c = client(db_url, Clock())
    sign_in(c, "bob", "Wrong-password-1")
    sign_in(c, "bob")
    c.get("/")
    c.post("/logout", data={"csrf": session_csrf(c)})
    c.get("/")  # anonymous: redirected, nothing logged as a view
    log = [(actor, action, target) for actor, action, target in log_actions(db_url) if action.startswith("web.")]
    assert log == [("anonymous", "web.signin_failed", "bob"), ("bob", "web.signin", "bob"), ("bob", "web.view", "/"),
                   ("bob", "web.view", "/password"), ("bob", "web.signout", None)]
    engine = store.connect(db_url)
    assert verify_log(engine).state == "intact"
    engine.dispose()


def test_anonymous_visitors_are_sent_to_sign_in_and_see_nothing_personal(db_url):
    make_users(db_url)
    engine = store.connect(db_url)
    save(engine, "2026-10", finding(PID_A))
    engine.dispose()
    c = client(db_url, Clock())
    for path in ("/", "/users", "/password"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/login" and not r.text
    page = c.get("/login").text
    assert "310105" not in page and "alice" not in page and STREET not in page


@pytest.mark.parametrize("who, total, streets", [("alice", 2, True), ("ole", 2, True), ("ivy", 2, True),
                                                 ("bob", 1, False)])
def test_home_pages_count_what_the_role_may_see(db_url, who, total, streets):
    make_users(db_url)
    engine = store.connect(db_url)
    save(engine, "2026-10", finding(PID_A), finding(PID_B, street="江苏路街道"))
    engine.dispose()
    c = client(db_url, Clock())
    sign_in(c, who)
    html = c.get("/").text
    stat = re.search(r'问题线索</div><div class="stat-value">(\d+)<', html)
    assert stat and int(stat.group(1)) == total
    assert ("各街镇线索" in html) is streets and ("江苏路街道" in html) is streets
    assert "310105" not in html
    assert ("用户管理" in html) is (who == "alice")


def test_the_users_page_creates_accounts_and_changes_roles(db_url):
    make_users(db_url)
    c = client(db_url, Clock())
    sign_in(c, "alice")
    token = session_csrf(c)
    r = c.post("/users", data={"name": "sue", "role": "street", "street": "江苏路街道", "csrf": token})
    assert r.status_code == 200 and "一次性密码" in r.text
    r = c.post("/users", data={"name": "sue", "role": "office", "csrf": token})
    assert r.status_code == 400 and "已存在" in r.text
    r = c.post("/users", data={"name": "tom", "role": "street", "csrf": token})
    assert r.status_code == 400 and "街镇" in r.text
    r = c.post("/users/sue/role", data={"role": "office", "street": "江苏路街道", "csrf": token})
    assert r.status_code == 200
    engine = store.connect(db_url)
    sue = accounts.get_account(engine, "sue")
    assert sue is not None and (sue.role, sue.street, sue.must_change) == ("office", None, True)
    engine.dispose()
    assert {a for _, a, t in log_actions(db_url) if t == "sue"} == {"users.add", "users.set"}


def test_cli_users_add_reset_disable_set(db_url, capsys, monkeypatch):
    import io

    code, out, _ = run_cli(capsys, "users", "add", "alice", "--role", "auditor", "--db", db_url)
    assert code == 0 and "一次性密码" in out
    otp = re.search(r"shown once\): (\S+)", out).group(1)
    assert accounts.policy_problem(otp, WebSettings()) is None
    monkeypatch.setattr("sys.stdin", io.StringIO("Scripted-pass-2026\n"))
    code, out, _ = run_cli(capsys, "users", "add", "ole", "--role", "office", "--password-stdin", "--db", db_url,
                           "--user", "alice")
    assert code == 0 and "一次性密码" not in out
    monkeypatch.setattr("sys.stdin", io.StringIO("weak\n"))
    code, _, err = run_cli(capsys, "users", "add", "ivy", "--role", "inspector", "--password-stdin", "--db", db_url,
                           "--user", "alice")
    assert code == 2 and "至少 12 位" in err
    c = client(db_url, Clock())
    assert sign_in(c, "ole", "Scripted-pass-2026").headers["location"] == "/password"
    code, out, _ = run_cli(capsys, "users", "reset", "ole", "--db", db_url, "--user", "alice")
    assert code == 0 and "一次性密码" in out
    assert c.get("/").headers["location"] == "/login"  # the reset ended ole's session
    code, _, err = run_cli(capsys, "users", "set", "ole", "--role", "street", "--db", db_url, "--user", "alice")
    assert code == 2 and "--street" in err
    assert run_cli(capsys, "users", "set", "ole", "--role", "street", "--street", STREET, "--db", db_url,
                   "--user", "alice")[0] == 0
    code, _, err = run_cli(capsys, "users", "disable", "alice", "--db", db_url, "--user", "ole")
    assert code == 2 and "may not users" in err
    assert run_cli(capsys, "users", "disable", "ole", "--db", db_url, "--user", "alice")[0] == 0
    engine = store.connect(db_url)
    ole = accounts.get_account(engine, "ole")
    assert ole is not None and ole.disabled and (ole.role, ole.street) == ("street", STREET)
    engine.dispose()


def test_the_web_settings_come_from_the_profile(tmp_path):
    from auditor.core.config import CONFIG_DIR, load_profile
    from auditor.core.errors import AuditInputError

    assert load_profile(None).web == WebSettings(min_length=12, min_classes=3, max_failures=5, lockout_minutes=15,
                                                 idle_minutes=30, absolute_hours=8)
    base = (CONFIG_DIR / "changning.toml").read_text(encoding="utf-8")
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(base + "\n[web]\nidle_minutes = 15\n", encoding="utf-8")
    bad.write_text(base + "\n[web]\nmin_length = 4\n", encoding="utf-8")
    assert load_profile(str(good)).web.idle_minutes == 15
    with pytest.raises(AuditInputError, match="web.min_length"):
        load_profile(str(bad))


def test_demo_serve_opens_one_account_per_role_and_serves_the_demo_store(tmp_path, capsys, monkeypatch):
    import uvicorn
    from starlette.testclient import TestClient

    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kw: served.update(app=app, host=host, port=port))
    db_url = f"sqlite:///{tmp_path / 'demo.db'}"
    code, out, _ = run_cli(capsys, "demo", "--out", str(tmp_path / "demo"), "--cases", "200", "--db", db_url,
                           "--serve", "--port", "8123")
    assert code == 0 and served["port"] == 8123 and served["host"] == "127.0.0.1"
    lines = {m.group(1): (m.group(2), m.group(3)) for m in
             re.finditer(r"^\s+\S+\s+(demo-\w+)\s+(\S+)\s*(\S*)$", out, flags=re.M)}
    assert set(lines) == {"demo-auditor", "demo-inspector", "demo-office", "demo-street"}
    assert lines["demo-street"][1].endswith("街道")
    c = TestClient(served["app"], follow_redirects=False)
    for name, (otp, _) in lines.items():
        c.cookies.clear()
        assert sign_in(c, name, otp).headers["location"] == "/password"
    served["app"].state.engine.dispose()
