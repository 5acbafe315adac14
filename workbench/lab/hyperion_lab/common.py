"""Paths, errors and process helpers shared by the image builder and the launcher."""
import os
import shlex
import shutil
import subprocess
import sys
import time

LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUEST_DIR = os.path.join(LAB_DIR, "guest")
# The Debian packages of the lab (and of the rest of the checkout), with the commands they provide.
PACKAGE_LIST = os.path.join(LAB_DIR, "debian-packages.txt")


def _shared_cache():
    """The cache every clone shares (as the Makefile sets it), so a direct call reuses its images."""
    base = os.environ.get("HYPERION_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "hyperion-kernel")
    return os.path.join(base, "lab")


CACHE_DIR = os.environ.get("HYPERION_LAB_CACHE") or _shared_cache()
RUN_DIR = os.environ.get("HYPERION_LAB_RUN") or os.path.join(LAB_DIR, "run")

# The host commands of an image build, looked up before debootstrap starts (minutes). They live here,
# not in image.py, whose source is part of every image's cache key.
IMAGE_COMMANDS = ("debootstrap", "ssh-keygen", "systemctl", "chroot", "sfdisk", "mke2fs", "qemu-system-x86_64", "qemu-img")

# The user the lab's key logs in as: unprivileged, with password-less sudo (root cannot log in).
LOGIN_USER = "ansible"

SUITES = ("trixie", "bookworm")
DEFAULT_SUITE = "trixie"


class LabError(Exception):
    """A failure the user can act on: printed without a traceback."""


def log(message):
    """Progress goes to stderr so that stdout stays machine-readable (--json)."""
    print("hyperion-lab: " + message, file=sys.stderr, flush=True)


def command_packages(path=PACKAGE_LIST):
    """{command: Debian package} of the package list (PACKAGE GROUPS [COMMAND...] lines)."""
    packages = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                words = line.split("#", 1)[0].split()
                for command in words[2:]:
                    packages.setdefault(command, words[0])
    except OSError:
        pass
    return packages


def missing_commands(commands, package_list=PACKAGE_LIST):
    """The LabError for commands that are not on PATH, naming their Debian packages: one sentence."""
    commands = list(dict.fromkeys(os.path.basename(command) for command in commands))
    known = command_packages(package_list)
    packages = list(dict.fromkeys(known[command] for command in commands if command in known))
    unknown = [command for command in commands if command not in known]
    message = "the lab needs %s that %s not on PATH: %s" % (
        "a command" if len(commands) == 1 else "commands", "is" if len(commands) == 1 else "are", ", ".join(commands))
    if packages:
        message += "; install %s with: apt-get install %s (as root; make lab-up does it itself when run as root)" % (
            "its Debian package" if len(packages) == 1 else "their Debian packages", " ".join(packages))
    if unknown:
        message += "; install what provides %s" % ", ".join(unknown)
    return LabError(message)


def require(commands):
    """Stop before a long step when any of its commands is missing, naming every missing one at once."""
    absent = [command for command in commands if shutil.which(command) is None]
    if absent:
        raise missing_commands(absent)


def _not_found(argv, exc):
    """A missing executable as a LabError; any other missing file (a cwd, say) stays what it is."""
    # subprocess names the executable when exec failed, the directory when changing into cwd did.
    if exc.filename == argv[0]:
        return missing_commands([argv[0]])
    return exc


def call(argv, **kwargs):
    """subprocess.run, with a missing executable turned into a LabError that names its package."""
    try:
        return subprocess.run(argv, **kwargs)  # pylint: disable=subprocess-run-check
    except FileNotFoundError as exc:
        raise _not_found(argv, exc) from exc


def spawn(argv, **kwargs):
    """subprocess.Popen, with a missing executable turned into a LabError that names its package."""
    try:
        return subprocess.Popen(argv, **kwargs)  # pylint: disable=consider-using-with
    except FileNotFoundError as exc:
        raise _not_found(argv, exc) from exc


def run(argv, **kwargs):
    """Run a command; a failure becomes a LabError naming the command and its output."""
    kwargs.setdefault("check", False)
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.STDOUT)
    kwargs.setdefault("text", True)
    result = call(argv, **kwargs)
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
