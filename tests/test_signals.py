from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import shutil, sys, time
from pathlib import Path
from guardkit._signals import exit_on_terminate
exit_on_terminate()
staging = Path(sys.argv[1])
staging.mkdir()
try:
    print("ready", flush=True)
    time.sleep(60)
finally:
    shutil.rmtree(staging)
"""


def test_a_polite_kill_unwinds_so_staging_is_cleaned_up(tmp_path: Path) -> None:
    staging = tmp_path / ".student.tmp"
    with subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(staging)], stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        assert staging.is_dir()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert not staging.exists()
