"""Missing host tools: workbench/lab/bin/debian-packages and the lab's Python name them in a sentence.

The real script and the real CLI run here as subprocesses, on a PATH made of a directory of
symlinks: a tool left out of it is missing as on a machine without its package. id and apt-get
are replaced by small scripts where a test needs another user or must not touch the host's apt.
"""
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from hyperion_lab import cli, common, machines
from hyperion_lab import image as lab_image
from hyperion_lab.common import LabError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PACKAGES = os.path.join(REPO, "workbench", "lab", "bin", "debian-packages")
LAB_CLI = os.path.join(REPO, "workbench", "lab", "bin", "hyperion-lab")
PACKAGE_LIST = os.path.join(REPO, "workbench", "lab", "debian-packages.txt")
BUILD_ROLE_DEPENDENCIES = os.path.join(REPO, "roles", "build", "tasks", "dependencies.yml")
# A package no Debian release has, and a command no machine has.
ABSENT = "hyperion-test-absent-package"
ABSENT_COMMAND = "hyperion-test-absent-command"


def path_of(tmp_path, *commands, fakes=None):
    """A PATH directory with the real commands (symlinks) and fake ones (scripts), nothing else."""
    directory = tmp_path / "bin"
    directory.mkdir(exist_ok=True)
    for command in commands:
        real = shutil.which(command)
        if real is None:
            pytest.skip("%s is not installed here" % command)
        (directory / command).symlink_to(os.path.realpath(real))
    for name, text in (fakes or {}).items():
        (directory / name).write_text("#!/bin/sh\n" + text)
        (directory / name).chmod(0o755)
    return str(directory)


def fake_id(uid):
    return {"id": "echo %d\n" % uid}


def run_packages(path, *args, package_list=None):
    env = {"PATH": path, "HOME": os.environ.get("HOME", "/")}
    if package_list:
        env["HYPERION_DEBIAN_PACKAGES"] = str(package_list)
    return subprocess.run([PACKAGES] + list(args), capture_output=True, text=True, env=env, check=False)


def write_list(tmp_path, text):
    path = tmp_path / "packages.txt"
    path.write_text(text)
    return path


def list_entries(path=PACKAGE_LIST):
    """[(package, groups, commands)] of the package list, parsed independently of the script."""
    entries = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            words = line.split("#", 1)[0].split()
            if words:
                entries.append((words[0], words[1].split(","), words[2:]))
    return entries


# The list


def test_every_line_has_known_groups():
    entries = list_entries()
    assert entries
    for package, groups, _commands in entries:
        assert set(groups) <= {"base", "lab", "build", "test", "bench"}, package
    assert len({package for package, _groups, _commands in entries}) == len(entries)


def test_the_build_group_is_the_build_roles_apt_list():
    """The build role keeps its own list (it runs on users' build hosts); both must name the same packages."""
    with open(BUILD_ROLE_DEPENDENCIES, encoding="utf-8") as handle:
        tasks = yaml.safe_load(handle)
    install = next(task for task in tasks if "ansible.builtin.apt" in task)
    role_packages = install["vars"]["__build_apt_packages"]
    listed = [package for package, groups, _commands in list_entries() if "build" in groups]
    assert sorted(listed) == sorted(role_packages)


def test_every_command_the_lab_runs_names_its_package():
    known = common.command_packages()
    # chroot is coreutils, which every Debian system has (Essential: yes).
    for command in set(common.IMAGE_COMMANDS + machines.START_COMMANDS) - {"chroot"}:
        assert command in known, command
    assert known["debootstrap"] == "debootstrap"
    assert known["sfdisk"] == "fdisk"
    assert known["qemu-system-x86_64"] == "qemu-system-x86"


def test_list_prints_the_groups_packages_with_base():
    result = run_packages(os.environ["PATH"], "--list", "lab")
    assert result.returncode == 0, result.stderr
    packages = result.stdout.split()
    assert "debootstrap" in packages and "make" in packages
    assert "gcc" not in packages and "shellcheck" not in packages
    every = run_packages(os.environ["PATH"], "--list", "all").stdout.split()
    assert sorted(every) == sorted(package for package, _groups, _commands in list_entries())
    assert run_packages(os.environ["PATH"], "--list", "lab,build").stdout.split() == \
        run_packages(os.environ["PATH"], "--list", "lab", "build").stdout.split()


def test_an_unknown_group_is_bad_usage():
    result = run_packages(os.environ["PATH"], "--check", "labs")
    assert result.returncode == 2
    assert "no group 'labs'" in result.stderr


# The check and the install


def test_not_root_stops_with_one_sentence_and_the_command(tmp_path):
    listed = write_list(tmp_path, "bash base bash\n%s lab %s\n%s-2 test\n" % (ABSENT, ABSENT_COMMAND, ABSENT))
    path = path_of(tmp_path, "bash", "dpkg-query", "apt-get", fakes=fake_id(1000))
    result = run_packages(path, "--for", "make deploy", "lab", package_list=listed)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "make deploy needs Debian packages that are missing here: %s; install them with: sudo apt-get install %s "
        "(or run make deploy as root, which installs them)." % (ABSENT, ABSENT)]


def test_everything_there_says_nothing(tmp_path):
    listed = write_list(tmp_path, "bash base bash\nbash-static lab bash\n")
    path = path_of(tmp_path, "bash", fakes=fake_id(1000))
    result = run_packages(path, "lab", package_list=listed)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_root_installs_what_is_missing_then_checks_again(tmp_path):
    """apt-get is a script that records its arguments and puts the command on PATH, as the package would."""
    listed = write_list(tmp_path, "%s lab %s\n" % (ABSENT, ABSENT_COMMAND))
    calls = tmp_path / "apt-calls"
    bin_dir = str(tmp_path / "bin")
    apt_get = ('echo "$*" >> %s\n'
               'if [ "$1" = install ]; then printf "#!/bin/sh\\n" > %s/%s; chmod +x %s/%s; fi\n'
               % (calls, bin_dir, ABSENT_COMMAND, bin_dir, ABSENT_COMMAND))
    # Without dpkg-query the command alone says whether the package is there.
    path = path_of(tmp_path, "bash", "chmod", fakes=dict(fake_id(0), **{"apt-get": apt_get}))
    result = run_packages(path, "--for", ".ci/run", "lab", package_list=listed)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["debian-packages: installing what .ci/run needs: %s" % ABSENT]
    assert calls.read_text().splitlines() == ["update -qq", "install -y -qq %s" % ABSENT]


def test_root_reports_a_failed_install(tmp_path):
    listed = write_list(tmp_path, "%s lab %s\n" % (ABSENT, ABSENT_COMMAND))
    path = path_of(tmp_path, "bash", "dpkg-query", fakes=dict(fake_id(0), **{"apt-get": "exit 100\n"}))
    result = run_packages(path, "--for", "make lab-up", "lab", package_list=listed)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == \
        "make lab-up needs Debian packages that apt-get could not install: %s (apt-get's messages are above)." % ABSENT


def test_root_with_check_only_installs_nothing(tmp_path):
    listed = write_list(tmp_path, "%s lab\n" % ABSENT)
    path = path_of(tmp_path, "bash", "dpkg-query", fakes=dict(fake_id(0), **{"apt-get": "echo apt-get ran; exit 1\n"}))
    result = run_packages(path, "--check", "lab", package_list=listed)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "this checkout needs Debian packages that are missing here: %s; install them with: apt-get install %s" % (ABSENT, ABSENT)]


def test_without_apt_get_it_says_so(tmp_path):
    listed = write_list(tmp_path, "debootstrap lab %s\n" % ABSENT_COMMAND)
    path = path_of(tmp_path, "bash", fakes=fake_id(0))
    result = run_packages(path, "lab", package_list=listed)
    assert result.returncode == 1
    assert "missing here: debootstrap; this machine has no apt-get" in result.stderr


def test_an_installed_package_whose_command_is_not_on_path(tmp_path):
    """The real list on a PATH stripped of debootstrap: installing would not help, so it says what would."""
    if subprocess.run(["dpkg-query", "-W", "debootstrap"], capture_output=True, check=False).returncode != 0:
        pytest.skip("debootstrap is not installed here")
    listed = write_list(tmp_path, "debootstrap lab debootstrap\n")
    path = path_of(tmp_path, "bash", "dpkg-query", fakes=dict(fake_id(0), **{"apt-get": "echo apt-get ran; exit 1\n"}))
    result = run_packages(path, "--for", "make lab-up", "lab", package_list=listed)
    assert result.returncode == 1
    assert "apt-get ran" not in result.stdout + result.stderr
    where = os.path.dirname(shutil.which("debootstrap") or "/usr/sbin/debootstrap")
    assert result.stderr.splitlines() == [
        "make lab-up needs commands that are not on PATH although their Debian packages are installed: "
        "debootstrap (of debootstrap, in %s); add those directories to PATH (Debian puts /usr/sbin on root's PATH only)." % where]


# The lab's Python


def run_lab(tmp_path, path, *args):
    env = {"PATH": path, "HOME": str(tmp_path), "HYPERION_LAB_RUN": str(tmp_path / "run"),
           "HYPERION_LAB_CACHE": str(tmp_path / "cache"), "HYPERION_LAB_PYTHON": sys.executable,
           # No mirror is asked: the build stops at its missing commands.
           "HYPERION_LAB_MIRROR": "http://127.0.0.1:9/debian"}
    return subprocess.run([LAB_CLI] + list(args), capture_output=True, text=True, env=env, check=False)


def test_image_build_without_debootstrap_is_a_sentence(tmp_path):
    tools = [command for command in common.IMAGE_COMMANDS if command != "debootstrap"]
    result = run_lab(tmp_path, path_of(tmp_path, "bash", "dirname", *tools), "image")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "hyperion-lab: error: the lab needs a command that is not on PATH: debootstrap; install its Debian package with: "
        "apt-get install debootstrap (as root; make lab-up does it itself when run as root)"]
    assert not (tmp_path / "cache").exists()


def test_up_names_every_missing_tool_before_anything_starts(tmp_path):
    result = run_lab(tmp_path, path_of(tmp_path, "bash", "dirname", "ssh"), "up", "-n", "1")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.count("\n") == 0
    assert "qemu-img, qemu-system-x86_64, debootstrap" in message
    assert "apt-get install qemu-utils qemu-system-x86 debootstrap" in message
    assert not (tmp_path / "run").exists()


def test_a_missing_executable_becomes_a_lab_error(monkeypatch):
    """The real subprocess call: exec fails, the error names the package."""
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(LabError) as error:
        common.run(["mke2fs", "-q"])
    assert str(error.value) == ("the lab needs a command that is not on PATH: mke2fs; install its Debian package with: "
                                "apt-get install e2fsprogs (as root; make lab-up does it itself when run as root)")
    with pytest.raises(LabError) as error:
        common.spawn([ABSENT_COMMAND])
    assert str(error.value) == "the lab needs a command that is not on PATH: %s; install what provides %s" % (ABSENT_COMMAND, ABSENT_COMMAND)


def test_a_missing_working_directory_is_not_called_a_missing_command(tmp_path):
    with pytest.raises(FileNotFoundError):
        common.call([sys.executable, "-c", "pass"], cwd=str(tmp_path / "gone"))


def test_a_command_run_outside_the_wrappers_is_still_a_sentence(tmp_path, monkeypatch, capsys):
    """image.py runs debootstrap with subprocess itself (its source is part of the image's cache key)."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(lab_image, "cached_image", lambda suite: None)
    monkeypatch.setattr(cli, "require", lambda commands: None)
    monkeypatch.setattr(lab_image, "ensure_image", lambda suite: subprocess.run(["debootstrap", suite], check=False))
    assert cli.main(["image"]) == 1
    assert capsys.readouterr().err == (
        "hyperion-lab: error: the lab needs a command that is not on PATH: debootstrap; install its Debian package with: "
        "apt-get install debootstrap (as root; make lab-up does it itself when run as root)\n")
