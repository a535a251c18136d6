"""The real command line, run as subprocesses: ``rathaus admin | doctor | serve``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from rathaus.media.janus.supervisor import free_port
from tests.support.devices import TestDevice
from tests.support.network import MEDIA_IFACE, require_test_network
from tests.support.slapd import Slapd


def _environment(**extra: str) -> dict[str, str]:
    """This environment without any RATHAUS_* settings of the caller's (the test network's kept)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("RATHAUS_") or k.startswith("RATHAUS_TEST_")
    }
    env.update(extra)
    return env


def rathaus(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m rathaus ARGS`` in ``cwd`` (where it would find a rathaus.toml)."""
    return subprocess.run(
        [sys.executable, "-m", "rathaus", *args],
        cwd=cwd,
        env=env or _environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def assert_one_plain_line(text: str, *expected: str) -> None:
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert lines[0].startswith("rathaus: ") and "Traceback" not in text
    for part in expected:
        assert part in lines[0]


# --- admin ---------------------------------------------------------------------------------------


def test_user_administration(tmp_path: Path) -> None:
    data = ("--data-dir", str(tmp_path / "data"))
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "rathaus",
            "admin",
            "create-user",
            "Anna",
            "--display-name",
            "Anna Schmidt",
            "--password-stdin",
            *data,
        ],
        cwd=tmp_path,
        env=_environment(),
        input="a long enough secret\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout == "User created: anna (member)\n"
    assert "a long enough secret" not in created.stdout + created.stderr

    weak = subprocess.run(
        [sys.executable, "-m", "rathaus", "admin", "create-user", "ben", "--password-stdin", *data],
        cwd=tmp_path,
        env=_environment(),
        input="short\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert weak.returncode == 2
    assert_one_plain_line(weak.stderr, "at least 10 characters")
    no_terminal = rathaus(tmp_path, "admin", "create-user", "ben", *data)  # stdin is not a tty
    assert_one_plain_line(no_terminal.stderr, "--password-stdin")
    assert rathaus(tmp_path, "admin", "create-user", "carl", "--no-password", *data).returncode == 0

    granted = rathaus(tmp_path, "admin", "grant-admin", "anna", *data)
    assert granted.stdout == "anna is now an administrator\n"
    listed = rathaus(tmp_path, "admin", "list-users", *data)
    assert listed.stdout.splitlines() == [
        "anna\tadministrator\tlocal\tAnna Schmidt",
        "carl\tmember\tlocal\tcarl",
    ]
    assert rathaus(tmp_path, "admin", "delete-user", "carl", *data).returncode == 0
    missing = rathaus(tmp_path, "admin", "delete-user", "carl", *data)
    assert missing.returncode == 2
    assert_one_plain_line(missing.stderr, "no user 'carl'")


def test_create_room_prints_the_link_and_refuses_a_duplicate(tmp_path: Path) -> None:
    create = ("admin", "create-room", "Bezirksausschuss Süd", "--data-dir", str(tmp_path / "data"))
    first = rathaus(tmp_path, *create)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "Room created: /r/bezirksausschuss-sued\n"
    assert first.stderr == ""

    again = rathaus(tmp_path, *create)
    assert again.returncode != 0 and again.stdout == ""
    assert_one_plain_line(again.stderr, "'bezirksausschuss-sued' exists already")


def test_admin_keeps_the_data_directory_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "rathaus.db").touch(mode=0o644)  # as an older Rathaus (or a restore) left them
    os.chmod(data, 0o755)
    os.chmod(data / "rathaus.db", 0o644)
    done = rathaus(tmp_path, "admin", "create-room", "Rat", "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    assert data.stat().st_mode & 0o777 == 0o700
    files = [p for p in data.iterdir() if p.name.startswith("rathaus.db")]
    assert files and all(p.stat().st_mode & 0o777 == 0o600 for p in files), files


def test_create_room_with_an_invalid_link_name(tmp_path: Path) -> None:
    done = rathaus(
        tmp_path, "admin", "create-room", "Rat", "--slug", "Not Valid", "--data-dir", "."
    )
    assert done.returncode != 0
    assert_one_plain_line(done.stderr, "link name")


# --- doctor --------------------------------------------------------------------------------------


def test_doctor_passes_on_a_good_installation(tmp_path: Path) -> None:
    port = free_port()
    done = rathaus(tmp_path, "doctor", "--data-dir", "data", "--port", str(port))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines and all(line.startswith("[ok] ") for line in lines), done.stdout
    names = {line.split(":")[0] for line in lines}
    assert {"[ok] data directory", "[ok] database", "[ok] listening port", "[ok] janus"} <= names
    assert done.stderr == ""


def test_doctor_reports_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = rathaus(tmp_path, "doctor", "--data-dir", "data", "--port", str(port))
    assert done.returncode == 1
    assert f"[FAIL] listening port: 127.0.0.1:{port} is in use" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_doctor_reports_a_missing_janus(tmp_path: Path) -> None:
    env = _environment(RATHAUS_JANUS_BINARY="/nonexistent")
    done = rathaus(tmp_path, "doctor", "--data-dir", "data", "--port", str(free_port()), env=env)
    assert done.returncode == 1
    assert "[FAIL] janus: '/nonexistent' is not installed" in done.stdout
    assert "apt-get install janus" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[server\nport = 8080\n", "rathaus.toml is not valid TOML"),
        ('[server]\nport = "achtzig"\n', "server.port"),
        ("[sever]\nport = 8080\n", "sever"),
    ],
    ids=["syntax", "type", "unknown-section"],
)
def test_an_invalid_rathaus_toml_is_one_clear_line(
    tmp_path: Path, toml: str, expected: str
) -> None:
    (tmp_path / "rathaus.toml").write_text(toml, encoding="utf-8")
    done = rathaus(tmp_path, "doctor", "--data-dir", "data")
    assert done.returncode == 2 and done.stdout == ""
    assert_one_plain_line(done.stderr, expected)


# --- serve ---------------------------------------------------------------------------------------


def janus_processes(data_dir: Path) -> list[int]:
    """Pids of running Janus processes whose command line names ``data_dir``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and Path(os.fsdecode(argv[0])).name == "janus":
            if any(str(data_dir).encode() in arg for arg in argv):
                pids.append(int(entry.name))
    return pids


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path, int]]:
    """``rathaus serve`` with a managed Janus; killed at the end if a test left it running."""
    require_test_network()
    data, port = tmp_path / "data", free_port()
    command = ["serve", "--data-dir", str(data), "--port", str(port)]
    stdout, stderr = tmp_path / "stdout", tmp_path / "stderr"
    with stdout.open("w") as out, stderr.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rathaus", *command],
            cwd=tmp_path,
            env=_environment(RATHAUS_JANUS_ICE_ENFORCE_LIST=MEDIA_IFACE),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            text=True,
        )
    try:
        banner = f"Rathaus is running at http://127.0.0.1:{port}/\n"
        deadline = time.monotonic() + 20
        while stdout.read_text() != banner:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"rathaus serve did not start:\n{stdout.read_text()}\n{stderr.read_text()}"
                )
            time.sleep(0.05)
        yield proc, data, port
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in janus_processes(data):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_runs_and_stops_cleanly(
    serve: tuple[subprocess.Popen[str], Path, int], sig: signal.Signals
) -> None:
    proc, data, port = serve
    health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    janus = janus_processes(data)
    assert len(janus) == 1, "serve should run exactly one managed Janus"
    with ws_connect(f"ws://127.0.0.1:{port}/ws/rooms/team") as ws:
        # Meetings are end-to-end encrypted by default: only a device that can encrypt gets in.
        device = TestDevice.new().public()
        ws.send(json.dumps({"type": "join", "name": "Logged Nowhere", "device": device}))
        welcome = json.loads(ws.recv())
        assert (welcome["type"], welcome["e2ee_required"]) == ("welcome", True)

    proc.send_signal(sig)
    returncode = proc.wait(timeout=15)
    # uvicorn shuts down gracefully, then re-raises the signal: SIGTERM ends the process by that
    # signal (as systemd expects), SIGINT becomes KeyboardInterrupt, which the CLI turns into 130.
    assert returncode in (0, -signal.SIGTERM if sig == signal.SIGTERM else 130)
    log = (data.parent / "stderr").read_text()
    assert "Application shutdown complete" in log and "Traceback" not in log
    # Data minimisation: no client address, no participant name in the log.
    assert '"WebSocket' not in log and "Logged Nowhere" not in log
    assert janus_processes(data) == [], "the managed Janus outlived rathaus serve"


def test_the_managed_janus_dies_with_a_killed_rathaus(
    serve: tuple[subprocess.Popen[str], Path, int],
) -> None:
    proc, data, _ = serve
    assert len(janus_processes(data)) == 1
    proc.kill()  # no chance to clean up: the kernel must end Janus (PR_SET_PDEATHSIG)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while janus_processes(data) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert janus_processes(data) == [], "the managed Janus outlived a killed rathaus"


def test_serve_trusts_no_forwarded_address_by_default(
    serve: tuple[subprocess.Popen[str], Path, int],
) -> None:
    """uvicorn alone would believe X-Forwarded-For from 127.0.0.1: every local client could
    claim another address for each failed sign-in and never be locked out."""
    _, _, port = serve
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        for n in range(5):  # accounts.max_failures
            failed = http.post(
                "/api/session",
                json={"username": f"user{n}", "password": "wrong password"},
                headers={"x-forwarded-for": f"203.0.113.{n + 1}"},
            )
            assert failed.json()["code"] == "authentication_failed"
        locked = http.post(
            "/api/session",
            json={"username": "another", "password": "wrong password"},
            headers={"x-forwarded-for": "198.51.100.7"},
        )
        assert locked.status_code == 429 and locked.json()["code"] == "locked"


def test_doctor_checks_the_sign_in_services(tmp_path: Path, slapd: Slapd) -> None:
    ldap = {
        "RATHAUS_LDAP_URL": slapd.url,
        "RATHAUS_LDAP_BASE_DN": slapd.people_dn,
        "RATHAUS_LDAP_BIND_DN": slapd.service_dn,
        "RATHAUS_LDAP_BIND_PASSWORD": slapd.service_password,
        "RATHAUS_OIDC_ISSUER": f"http://127.0.0.1:{free_port()}",  # nothing listens there
        "RATHAUS_OIDC_CLIENT_ID": "rathaus",
        "RATHAUS_OIDC_CLIENT_SECRET": "s",
    }
    args = ("doctor", "--data-dir", str(tmp_path / "data"), "--port", str(free_port()))
    done = rathaus(tmp_path, *args, env=_environment(**ldap))
    assert f"[ok] ldap: {slapd.url} answers searches" in done.stdout, done.stdout
    assert "[FAIL] oidc:" in done.stdout and done.returncode == 1

    wrong = _environment(**{**ldap, "RATHAUS_LDAP_BIND_PASSWORD": "wrong"})
    done = rathaus(tmp_path, *args, env=wrong)
    assert "[FAIL] ldap:" in done.stdout and "bind" in done.stdout.lower()
