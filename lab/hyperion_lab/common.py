"""Paths, errors and process helpers shared by the image builder and the launcher."""
import os
import shlex
import subprocess
import sys
import time

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUEST_DIR = os.path.join(LAB_DIR, "guest")


def _shared_cache():
    """The cache every clone shares (as the Makefile sets it), so a direct call reuses its images."""
    base = os.environ.get("HYPERION_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "hyperion-kernel")
    return os.path.join(base, "lab")


CACHE_DIR = os.environ.get("HYPERION_LAB_CACHE") or _shared_cache()
RUN_DIR = os.environ.get("HYPERION_LAB_RUN") or os.path.join(LAB_DIR, "run")

SUITES = ("trixie", "bookworm")
DEFAULT_SUITE = "trixie"


class LabError(Exception):
    """A failure the user can act on: printed without a traceback."""


def log(message):
    """Progress goes to stderr so that stdout stays machine-readable (--json)."""
    print("hyperion-lab: " + message, file=sys.stderr, flush=True)


def run(argv, **kwargs):
    """Run a command; a failure becomes a LabError naming the command and its output."""
    kwargs.setdefault("check", False)
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.STDOUT)
    kwargs.setdefault("text", True)
    try:
        result = subprocess.run(argv, **kwargs)  # pylint: disable=subprocess-run-check
    except FileNotFoundError as exc:
        raise LabError("command not found: %s (is its package installed?)" % argv[0]) from exc
    if result.returncode != 0:
        output = (result.stdout or "").strip().splitlines()[-30:]
        raise LabError("command failed (exit %d): %s\n%s" % (result.returncode, shlex.join(argv), "\n".join(output)))
    return result


def validate_suite(suite):
    if suite not in SUITES:
        raise LabError("unknown suite %r: choose one of %s" % (suite, ", ".join(SUITES)))
    return suite


def tail(path, lines=40):
    """The last lines of a (serial) log, decoded leniently: consoles emit control bytes."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            data = handle.read().decode("utf-8", "replace")
    except OSError:
        return "(no serial log at %s)" % path
    text = "".join(ch for ch in data if ch in "\n\t" or ch.isprintable())
    return "\n".join(text.splitlines()[-lines:])


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0) but is gone for every purpose here.
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def wait_until(predicate, timeout, interval=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
