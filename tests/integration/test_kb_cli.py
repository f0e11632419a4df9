"""`agent-runtime kb …` as an admin uses it: JSON out, clear errors, non-zero exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.documents import make_pdf

pytestmark = pytest.mark.integration

BIN = str(Path(sys.executable).parent / "agent-runtime")


def kb(database_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BIN, "kb", *args], env={**os.environ, "DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=120)


def test_kb_commands_round_trip(database_url, tmp_path):
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO clients (id, created_at) VALUES ('dealer-a', now())"))
    engine.dispose()
    hours = tmp_path / "hours.md"
    hours.write_text("# Opening hours\n\nSaturday 9-13, the workshop is closed on Sunday.\n")
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 nothing useful")
    brochure = tmp_path / "brochure.pdf"
    brochure.write_bytes(make_pdf([["Fleet discount: 12 percent on the Passat."]]))

    up = kb(database_url, "upload", "dealer-a", str(hours), str(broken), "--folder", "service",
            "--inline")
    assert up.returncode == 1, up.stderr  # one of them failed: told in the exit code …
    lines = [json.loads(line) for line in up.stdout.splitlines()]
    assert [(d["path"], d["status"]) for d in lines] == [
        ("service/hours.md", "ready"), ("service/broken.pdf", "failed")]
    assert "PDF could not be read" in lines[1]["error"]  # … and why in the output
    hours_id = lines[0]["id"]

    vip = kb(database_url, "upload", "dealer-a", str(brochure), "--folder", "fleet",
             "--segment", "tier:fleet", "--inline")
    assert vip.returncode == 0, vip.stderr
    vip_doc = json.loads(vip.stdout)
    assert vip_doc["segmentation"]["segments"] == [{"groupId": "tier", "itemId": "fleet"}]

    listed = json.loads(kb(database_url, "list", "dealer-a", "--json", "--status", "ready").stdout)
    assert {d["path"] for d in listed} == {"service/hours.md", "fleet/brochure.pdf"}

    moved = json.loads(kb(database_url, "move", "dealer-a", hours_id, "info", "--name",
                          "hours-2026.md").stdout)
    assert (moved["id"], moved["path"]) == (hours_id, "info/hours-2026.md")

    def visible(*args: str) -> set[str]:
        out = kb(database_url, "visible", "dealer-a", *args)
        assert out.returncode == 0, out.stderr
        return {d["path"] for d in json.loads(out.stdout)}

    assert visible() == {"info/hours-2026.md", "service/broken.pdf"}
    assert visible("--segment", "tier:fleet") == {
        "info/hours-2026.md", "service/broken.pdf", "fleet/brochure.pdf"}
    hits = json.loads(kb(database_url, "visible", "dealer-a", "--query", "fleet discount Passat",
                         "--segment", "tier:fleet").stdout)
    assert hits[0]["documentId"] == vip_doc["id"]
    assert json.loads(kb(database_url, "visible", "dealer-a", "--query", "fleet discount",
                         "--user", "u-1").stdout) == []

    segments = json.loads(kb(database_url, "segments", "dealer-a", vip_doc["id"], "--user", "u-1").stdout)
    assert segments == {"segments": [], "userIds": ["u-1"],
                        "count": {"everyone": False, "segments": 0, "userIds": 1}}
    assert "fleet/brochure.pdf" in visible("--user", "u-1")
    assert "fleet/brochure.pdf" not in visible("--segment", "tier:fleet")

    tree = kb(database_url, "tree", "dealer-a")
    assert tree.returncode == 0 and "fleet/ (1)" in tree.stdout
    assert kb(database_url, "rmdir", "dealer-a", "fleet").returncode == 0
    assert json.loads(kb(database_url, "folders", "dealer-a").stdout) == ["info", "service"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("show", "dealer-a", "01NOSUCHDOCUMENT0000000000"), "no document"),
        (("mkdir", "dealer-a", "a/../b"), "folder name"),
        (("rmdir", "dealer-a", "/"), "root folder"),
        (("visible", "dealer-a", "--segment", "no-colon"), "GROUP_ID:ITEM_ID"),
        (("list", "dealer-a", "--folder", "missing"), "no folder"),
        (("upload", "dealer-a", "/nonexistent/file.md"), "no such file"),
    ],
)
def test_kb_bad_input_is_a_clear_error(database_url, args, fragment):
    result = kb(database_url, *args)
    assert result.returncode == 2, result.stdout
    assert fragment in result.stderr and "Traceback" not in result.stderr


def test_kb_upload_refuses_files_over_the_limit_before_reading_them(database_url, tmp_path):
    huge = tmp_path / "huge.md"
    with huge.open("wb") as f:  # sparse: 50 MB + 1 byte without writing them
        f.truncate(50 * 1024 * 1024 + 1)
    unsupported = tmp_path / "slides.pptx"
    unsupported.write_bytes(b"x")
    result = kb(database_url, "upload", "dealer-a", str(huge))
    assert result.returncode == 2 and "the limit is 52,428,800" in result.stderr
    result = kb(database_url, "upload", "dealer-a", str(unsupported), "--inline")
    assert result.returncode == 2 and "unsupported file type" in result.stderr
