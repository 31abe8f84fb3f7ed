"""Executing code actions: outputs, errors, and the faults a model's code can cause."""

from __future__ import annotations

import threading

import psutil
import pytest

from sandbox import KernelSession

pytestmark = pytest.mark.kernel


def test_trivial_action_reports_output_result_and_duration(session: KernelSession) -> None:
    result = session.execute("import sys\nprint('out')\nprint('err', file=sys.stderr)\n6 * 7")
    assert result.ok
    assert (result.stdout, result.stderr, result.result) == ("out\n", "err\n", "42")
    assert result.duration > 0
    assert not (result.interrupted or result.restarted or result.truncated or result.notices)


def test_state_persists_between_actions(session: KernelSession) -> None:
    session.execute("x = 41")
    assert session.execute("x + 1").result == "42"


def test_rich_outputs_save_images_and_keep_html_as_text(session: KernelSession) -> None:
    result = session.execute(
        "from IPython.display import HTML, display\n"
        "display({'image/png': 'iVBORw0KGgo=', 'text/plain': '<Figure>'}, raw=True)\n"
        "HTML('<b>bold</b>')"
    )
    image, html = result.outputs
    assert image.mime == "image/png" and image.path is not None
    assert image.path.read_bytes() == b"\x89PNG\r\n\x1a\n"
    assert (html.mime, html.text) == ("text/html", "<b>bold</b>")


def test_syntax_error_names_the_line(session: KernelSession) -> None:
    result = session.execute("x = 1\ndef broken(:\n    pass")
    assert result.error is not None and result.error.name == "SyntaxError"
    assert "line 2" in result.error.traceback
    assert "def broken(:" in result.error.traceback


def test_traceback_is_trimmed_to_user_code(session: KernelSession) -> None:
    result = session.execute(
        "def outer():\n    inner()\ndef inner():\n    raise KeyError('missing')\nouter()"
    )
    assert result.error is not None
    assert (result.error.name, result.error.message) == ("KeyError", "'missing'")
    traceback = result.error.traceback
    assert traceback.count("Cell In[") == 3
    assert "inner()" in traceback and "raise KeyError('missing')" in traceback
    assert "site-packages" not in traceback and "\x1b[" not in traceback


def test_infinite_loop_is_interrupted_and_state_kept(session: KernelSession) -> None:
    session.execute("kept = 'still here'")
    result = session.execute("while True:\n    pass", timeout=1)
    assert result.timed_out and result.interrupted and not result.restarted
    assert result.error is not None and result.error.name == "KeyboardInterrupt"
    assert "kept" in result.notices[0] and "1 s" in result.notices[0]
    assert session.execute("kept").result == "'still here'"


def test_sleep_past_the_limit_is_interrupted(session: KernelSession) -> None:
    result = session.execute("import time\nprint('before')\ntime.sleep(60)\nprint('after')", timeout=1)
    assert result.interrupted and result.stdout == "before\n"
    assert result.duration < 10


def test_c_level_hang_that_ignores_sigint_restarts_the_kernel(session: KernelSession) -> None:
    session.execute("lost = 1")
    old_kernel = session.kernel_pid
    result = session.execute(
        "import ctypes, signal\n"
        "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})\n"
        "ctypes.CDLL(None).sleep(60)",
        timeout=1,
    )
    assert result.restarted and result.timed_out and not result.interrupted
    assert result.notices[0].startswith("Your code did not stop within 1.5 s of an interrupt. A fresh kernel")
    assert "variables, imports and definitions are gone" in result.notices[0]
    assert not psutil.pid_exists(old_kernel) or psutil.Process(old_kernel).status() == psutil.STATUS_ZOMBIE
    after = session.execute("lost")
    assert after.error is not None and after.error.name == "NameError"


def test_os_exit_is_detected_and_the_kernel_restarted(session: KernelSession) -> None:
    result = session.execute("import os\nos._exit(3)", timeout=30)
    assert result.restarted and "exited with code 3" in result.notices[0]
    assert result.duration < 10
    assert session.execute("1 + 1").result == "2"


def test_segfault_is_detected_and_the_kernel_restarted(session: KernelSession) -> None:
    result = session.execute("import ctypes\nctypes.string_at(0)", timeout=30)
    assert result.restarted and "segmentation fault" in result.notices[0]
    assert session.execute("1 + 1").result == "2"


def test_kernel_that_dies_between_actions_is_restarted_on_the_next(session: KernelSession) -> None:
    session.execute("import os, threading\nthreading.Timer(0.1, os._exit, (1,)).start()")
    threading.Event().wait(1.0)
    result = session.execute("1 + 1")
    assert result.restarted and "between actions" in result.notices[0]
    assert result.result == "2"


def test_huge_allocation_raises_memory_error_and_the_kernel_survives(session: KernelSession) -> None:
    session.execute("kept = True")
    result = session.execute("block = bytearray(64 * 1024**3)")
    assert result.error is not None and result.error.name == "MemoryError"
    assert not result.restarted
    assert session.execute("kept").result == "True"


def test_a_million_lines_are_truncated_in_the_middle_and_kept_whole(session: KernelSession) -> None:
    result = session.execute("for i in range(1_000_000):\n    print(i)", timeout=120)
    assert result.ok and result.truncated
    assert len(result.stdout) < session.max_output_chars + 200
    assert result.stdout.startswith("0\n1\n2\n") and result.stdout.endswith("999998\n999999\n")
    assert "lines) cut from the middle" in result.stdout
    assert result.full_stdout.count("\n") == 1_000_000


def test_binary_output_is_cleaned_and_does_not_break_the_session(session: KernelSession) -> None:
    result = session.execute(
        "import os, sys\n"
        "sys.stdout.write(bytes(range(256)).decode('latin-1'))\n"
        "sys.stdout.flush()\n"
        "os.write(1, b'\\x00\\xff\\xfe raw bytes\\n')\n"
        "b'\\x00\\x01'"
    )
    assert result.error is None
    assert "\x00" not in result.full_stdout and "\x1b" not in result.full_stdout
    assert "abcdef" in result.stdout and "raw bytes" in result.stdout
    assert result.result == "b'\\x00\\x01'"
    assert session.execute("1 + 1").result == "2"


def test_input_fails_at_once_instead_of_waiting_for_a_reader(session: KernelSession) -> None:
    result = session.execute("input('name? ')", timeout=10)
    assert result.error is not None and result.error.name == "StdinNotImplementedError"
    assert not result.timed_out


def test_interrupt_from_another_thread_keeps_state(session: KernelSession) -> None:
    session.execute("kept = 1")
    timer = threading.Timer(0.5, session.interrupt)
    timer.start()
    result = session.execute("import time\ntime.sleep(30)", timeout=60)
    timer.join()
    assert result.interrupted and not result.timed_out and not result.restarted
    assert session.execute("kept").result == "1"


def test_restart_clears_variables_and_keeps_capabilities(session: KernelSession) -> None:
    session.execute("x = 1")
    session.restart()
    assert session.execute("x").error is not None
    assert session.execute("callable(finish)").result == "True"


def test_kernel_runs_in_the_sessions_own_working_directory(session: KernelSession) -> None:
    result = session.execute("import os\nopen('note.txt', 'w').write('hi')\nos.getcwd()")
    assert result.result == repr(str(session.working_dir))
    assert (session.working_dir / "note.txt").read_text() == "hi"


def test_shutdown_ends_the_kernel_and_removes_the_working_directory(session: KernelSession) -> None:
    pid, working_dir = session.kernel_pid, session.working_dir
    session.shutdown()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not working_dir.exists()
