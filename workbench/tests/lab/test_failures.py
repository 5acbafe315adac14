"""The failure summary of `make test` on real Ansible output (a playbook run here, on localhost)."""
import os
import subprocess
import sys

import pytest

from hyperion_lab import failures

PLAYBOOK = """
- name: A play that fails the way the scenarios do
  hosts: all
  gather_facts: false
  tasks:
    - name: An ignored failure
      ansible.builtin.command: /bin/false
      changed_when: false
      ignore_errors: true
    - name: A passing check
      ansible.builtin.assert:
        that: [true]
      delegate_to: localhost
    - name: Check that every machine was updated
      ansible.builtin.assert:
        that: [false]
        fail_msg: "rc 2: [{\\"host\\": \\"ro-canary\\", \\"outcome\\": \\"unreachable\\"}]"
"""

INVENTORY = """
all:
  hosts:
    here:
      ansible_connection: local
      ansible_python_interpreter: "{python}"
    gone:
      ansible_host: 127.0.0.1
      ansible_port: 9
      ansible_user: nobody
      ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5
"""


LOOP_PLAYBOOK = """
- name: A loop with failed items
  hosts: here
  gather_facts: false
  tasks:
    - name: Check each batch size
      ansible.builtin.assert:
        that: item < 2
        fail_msg: "batch size {{ item }} is too big"
      loop: [1, 2, 3]
"""


def run_playbook(work, playbook, result_format):
    """The whole output of a real ansible-playbook run, coloured as in CI."""
    playbook_bin = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    assert os.path.exists(playbook_bin), "run with the project's venv (make test-lab-unit)"
    (work / "play.yml").write_text(playbook)
    (work / "hosts.yml").write_text(INVENTORY.format(python=sys.executable))
    env = dict(os.environ, ANSIBLE_CALLBACK_RESULT_FORMAT=result_format, ANSIBLE_NOCOLOR="0", ANSIBLE_FORCE_COLOR="1",
               ANSIBLE_CONFIG=str(work / "none.cfg"), ANSIBLE_HOST_KEY_CHECKING="False")
    result = subprocess.run([playbook_bin, "-i", str(work / "hosts.yml"), str(work / "play.yml")], cwd=str(work), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, check=False)
    assert result.returncode != 0, result.stdout
    assert "\x1b[" in result.stdout, "the output should carry colours, as in CI"
    return result.stdout


@pytest.fixture(scope="module", params=["json", "yaml"])
def ansible_output(request, tmp_path_factory):
    """A run with an ignored failure, a failed assert and an unreachable host, in both result
    formats the project's configurations use."""
    return run_playbook(tmp_path_factory.mktemp("play-" + request.param), PLAYBOOK, request.param)


@pytest.mark.parametrize("result_format", ["json", "yaml"])
def test_each_failed_item_of_a_loop_is_named(tmp_path, result_format):
    found = failures.failed_tasks(run_playbook(tmp_path, LOOP_PLAYBOOK, result_format).splitlines(True))
    assert [(f["task"], f["host"], f["kind"], f["message"]) for f in found] == [
        ("Check each batch size", "here", "FAILED", "(item=2) batch size 2 is too big"),
        ("Check each batch size", "here", "FAILED", "(item=3) batch size 3 is too big"),
    ]


def test_failed_tasks_are_found_and_ignored_ones_are_not(ansible_output):
    found = failures.failed_tasks(ansible_output.splitlines(True))
    assert [(f["task"], f["host"], f["kind"]) for f in found] == [
        ("An ignored failure", "gone", "UNREACHABLE"),
        ("Check that every machine was updated", "here", "FAILED"),
    ]
    assert found[1]["play"] == "A play that fails the way the scenarios do"
    assert found[1]["message"] == 'rc 2: [{"host": "ro-canary", "outcome": "unreachable"}]'
    assert "127.0.0.1" in found[0]["message"] or "port 9" in found[0]["message"]


def test_lane_prefixes_and_colours_do_not_matter(ansible_output):
    prefixed = ["18:24:39 [lane 1: molecule-rollout] " + line for line in ansible_output.splitlines(True)]
    assert failures.failed_tasks(prefixed) == failures.failed_tasks(ansible_output.splitlines(True))


def test_summary_names_the_failed_tasks_and_the_crashed_machines(ansible_output, tmp_path):
    log = tmp_path / "molecule-rollout.log"
    log.write_text(ansible_output)
    run_dir = tmp_path / "run"
    kept = run_dir / "logs" / "molecule-rollout"
    kept.mkdir(parents=True)
    (kept / "ro-canary-serial.log").write_bytes(b"[    0.000000] Linux version 6.12\r\n")
    running = run_dir / "demo" / "lab1"
    running.mkdir(parents=True)
    (running / "serial.log").write_bytes(b"\x1b[0m[  241.5] Oops: double fault: 0000 [#1] PREEMPT SMP NOPTI\r\n")
    lines = failures.summary([str(log)], str(run_dir), max_failures=1)
    assert lines[0] == "molecule-rollout.log: 1 earlier failed task(s) not shown"
    assert lines[1].startswith("molecule-rollout.log: A play that fails the way the scenarios do / "
                               "Check that every machine was updated [here] FAILED: rc 2: ")
    # Runs of blanks shrink to one: each item of the summary is one line.
    assert lines[2:] == ["serial demo/lab1: [ 241.5] Oops: double fault: 0000 [#1] PREEMPT SMP NOPTI"]
    assert len(lines) == 3


def test_a_real_guest_crash_gives_its_panic_lines(tmp_path):
    # A lab machine's serial console after SysRq c (workbench/capture/capture-guest-crash.sh): the
    # backtrace and registers between the two lines stay out of the summary.
    fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "serial-sysrq-crash.log")
    running = tmp_path / "run" / "capture-crash" / "crash1"
    running.mkdir(parents=True)
    with open(fixture, "rb") as handle:
        (running / "serial.log").write_bytes(handle.read())
    assert failures.summary([], str(tmp_path / "run")) == [
        "serial capture-crash/crash1: [ 43.455245] Kernel panic - not syncing: sysrq triggered crash",
        "serial capture-crash/crash1: [ 43.468117] ---[ end Kernel panic - not syncing: sysrq triggered crash ]---"]


def test_serial_logs_older_than_the_run_are_left_out(tmp_path):
    log = tmp_path / "logs" / "demo" / "lab1-serial.log"
    log.parent.mkdir(parents=True)
    log.write_text("Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n")
    os.utime(log, (1000, 1000))
    assert failures.crash_lines(str(log), since=2000) == []
    assert failures.crash_lines(str(log), since=0) == ["Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)"]


def test_an_output_without_a_failed_task_ends_with_its_last_lines(tmp_path):
    # A target that is not an Ansible run (lint, sanity, a make error): a real make failure.
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    # Under `make test` this test runs inside make, whose MAKELEVEL would make the child say "make[1]".
    top_level = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    made = subprocess.run(["make", "-C", repo, "--no-print-directory", "no-such-target"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False, env=top_level)
    assert made.returncode != 0
    log = tmp_path / "lint.log"
    log.write_text(made.stdout + "\n\n")
    assert failures.summary([str(log)], str(tmp_path / "run"), max_failures=2) == [
        "lint.log: no failed Ansible task; it ended with:",
        "  make: *** No rule to make target 'no-such-target'. Stop."]
    assert failures.summary([str(tmp_path / "missing.log")], str(tmp_path / "run")) == [
        "%s: cannot read (No such file or directory)" % (tmp_path / "missing.log")]


def test_the_command_line_prints_the_summary(ansible_output, tmp_path):
    log = tmp_path / "host_config.log"
    log.write_text(ansible_output)
    lab = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "lab", "bin", "hyperion-lab")
    env = dict(os.environ, HYPERION_LAB_RUN=str(tmp_path / "run"))
    result = subprocess.run([lab, "failures", "--max", "2", str(log)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert [line.split(": ", 2)[0] for line in result.stdout.splitlines()] == [
        "host_config.log (earlier, maybe rescued)", "host_config.log"]
    assert [line.split(": ", 2)[1] for line in result.stdout.splitlines()] == [
        "A play that fails the way the scenarios do / An ignored failure [gone] UNREACHABLE",
        "A play that fails the way the scenarios do / Check that every machine was updated [here] FAILED"]
    bad = subprocess.run([lab, "failures", "--max", "0"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    assert bad.returncode == 1 and "--max must be at least 1" in bad.stderr and "Traceback" not in bad.stderr


def test_molecule_output_wrapped_and_framed():
    """Molecule frames each line and wraps it at 80 columns (task names and results alike)."""
    fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "molecule-host-config-refusal.log")
    with open(fixture, encoding="utf-8") as handle:
        found = failures.failed_tasks(handle)
    assert found == [{
        "play": None,
        "task": "hyperion.kernel.boot_params : Refuse a kgdboc the host or its kernel cannot serve",
        "host": "hc-stock",
        "kind": "FAILED",
        "message": "kgdboc=ttyS9,115200: the serial port ttyS9 does not exist on this host (no /sys/class/tty/ttyS9); "
                   "kgdboc=ttyS9,115200: kernel 6.12.117+deb13-amd64 has no CONFIG_KGDB_SERIAL_CONSOLE, so the debugger "
                   "would never attach",
    }]
