"""The VM lab for real: build or reuse the image, boot two machines, reach them, read what
GRUB passed, exercise taprio on the machines' own network, stop cleanly; a boot that misses its
time limit is reported and torn down. The reboot through ansible.builtin.reboot is proved by the
lab_smoke molecule scenario (side_effect and its testinfra checks), the other half of `make test-lab`.

Marked `vm`: run by `make test-lab-vm` (part of `make test-lab`), not by `make unit`.
"""
import json
import os
import shlex
import subprocess
import sys

import pytest

from hyperion_lab import machines

pytestmark = pytest.mark.vm

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(REPO, "lab", "bin", "hyperion-lab")
VENV_BIN = os.path.dirname(sys.executable)
LAB = "test-vm"
NAMES = ("vm1", "vm2")


def lab_cli(*args, check=True):
    return subprocess.run([CLI] + list(args), capture_output=True, text=True, check=check)


def on(name, command, check=True, root=False):
    """Run a shell command on a lab machine through the lab's own ssh (the unprivileged login; root=True
    runs it through sudo, as a play with become does)."""
    if root:
        command = "sudo -n sh -c %s" % shlex.quote(command)
    return subprocess.run(machines.ssh_argv(LAB, name, [command]), capture_output=True, text=True, check=check, stdin=subprocess.DEVNULL)


def ansible(*args):
    env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING="False")
    return subprocess.run([os.path.join(VENV_BIN, "ansible"), "-i", os.path.join(machines.lab_dir(LAB), "hosts.yml")] + list(args),
                          capture_output=True, text=True, env=env, check=False)


def lab_qemu_pids():
    return machines.qemu_processes("%s%s-" % (machines.MARKER, LAB))


@pytest.fixture(scope="module")
def lab():
    lab_cli("down", "--lab", LAB)
    result = lab_cli("up", "--lab", LAB, "--names", ",".join(NAMES), "--json", check=False)
    try:
        assert result.returncode == 0, result.stderr
        yield json.loads(result.stdout)
    finally:
        lab_cli("down", "--lab", LAB, check=False)


def test_every_machine_answers_ansible(lab):
    assert set(lab["machines"]) == set(NAMES)
    result = ansible("all", "-m", "ansible.builtin.ping")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(NAMES)


def test_the_login_is_unprivileged_and_escalates_with_sudo(lab):
    """As on a real fleet: the lab's key opens the unprivileged user, which may sudo; root cannot log in."""
    del lab
    assert on("vm1", "id -un").stdout.strip() == "ansible"
    assert on("vm1", "id -u", root=True).stdout.strip() == "0"
    assert on("vm1", "sshd -T -C user=root 2>/dev/null | grep -i '^permitrootlogin'", root=True).stdout.split() == ["permitrootlogin", "no"]
    result = ansible("vm1", "-m", "ansible.builtin.command", "-a", "id -u", "-e", "ansible_user=root")
    assert result.returncode != 0 and "Permission denied" in result.stdout + result.stderr, result.stdout + result.stderr


def test_module_calls_fill_the_bytecode_cache(lab):
    """The guests keep the compiled code of Ansible's zipped module_utils (hyperion_lab_bytecode_cache), for
    module calls that run as root (become), as the roles' do."""
    del lab
    result = ansible("vm1", "--become", "-m", "ansible.builtin.stat", "-a", "path=/etc/hostname")
    assert result.returncode == 0, result.stdout + result.stderr
    cached = on("vm1", "ls /var/cache/hyperion-lab/bytecode", root=True).stdout.split()
    assert len(cached) > 20, cached


def test_each_machine_knows_its_lab_name(lab):
    for name in lab["machines"]:
        assert on(name, "hostname").stdout.strip() == name


def test_kernel_command_line_shows_what_grub_passed(lab):
    del lab
    words = on("vm1", "cat /proc/cmdline").stdout.split()
    assert any(word.startswith("BOOT_IMAGE=") for word in words)
    assert "hyperion_lab=1" in words
    assert "console=ttyS0,115200" in words


def test_serial_log_shows_grub_and_kernel(lab):
    with open(lab["machines"]["vm1"]["serial_log"], "rb") as handle:
        serial = handle.read()
    assert b"GRUB" in serial
    assert b"Linux version" in serial


def test_machines_reach_each_other_on_their_own_network(lab):
    vm2 = lab["machines"]["vm2"]["peer_addr"]
    probe = "python3 -c \"import socket; socket.create_connection(('%s', 22), timeout=10).close()\"" % vm2
    assert on("vm1", probe, check=False).returncode == 0


def test_taprio_runs_on_the_multi_queue_peer_link(lab):
    addr = lab["machines"]["vm1"]["peer_addr"]
    link = on("vm1", "ip -o -4 addr show to %s | awk '{print $2}'" % addr).stdout.strip()
    assert link
    queues = on("vm1", "ls /sys/class/net/%s/queues" % link).stdout.split()
    assert len([queue for queue in queues if queue.startswith("tx-")]) >= 2
    taprio = ("tc qdisc replace dev %s parent root handle 100 taprio num_tc 2 map 0 1 queues 1@0 1@1 "
              "base-time 0 sched-entry S 01 300000 sched-entry S 02 300000 clockid CLOCK_TAI" % link)
    result = on("vm1", taprio, check=False, root=True)
    assert result.returncode == 0, result.stderr
    qdiscs = json.loads(on("vm1", "tc -j qdisc show dev %s" % link, root=True).stdout)
    assert any(qdisc["kind"] == "taprio" for qdisc in qdiscs)


def test_down_leaves_nothing_behind(lab):
    pids = lab_qemu_pids()
    assert len(pids) == len(NAMES)
    ports = [record["port"] for record in lab["machines"].values()]
    lab_cli("down", "--lab", LAB)
    assert not lab_qemu_pids()
    assert not any(os.path.exists("/proc/%d" % pid) and machines.pid_alive(pid) for pid in pids)
    assert not os.path.exists(machines.lab_dir(LAB))
    assert all(machines.port_is_free(port) for port in ports)


def test_boot_timeout_reports_serial_log_and_tears_down():
    lab_cli("down", "--lab", "test-timeout")
    result = lab_cli("up", "--lab", "test-timeout", "--names", "late1", "--timeout", "1", check=False)
    assert result.returncode == 1
    assert "late1 did not answer SSH within 1 s; the end of its serial log" in result.stderr
    assert "tearing lab 'test-timeout' down" in result.stderr
    assert not machines.qemu_processes("%stest-timeout-" % machines.MARKER)
    assert not os.path.exists(machines.lab_dir("test-timeout"))
