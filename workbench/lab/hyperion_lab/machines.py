"""Start, reach and stop the lab's machines: qemu (TCG) guests on copy-on-write overlays.

Each machine gets:
- an overlay on the cached pristine image (so it starts clean),
- an uplink on qemu's user-mode network with SSH forwarded from 127.0.0.1:<free port>,
- a second NIC on a network shared by the lab's machines only (qemu socket multicast on the
  loopback interface: no root, no tap, no bridge). It is a vmxnet3 device, whose Linux driver
  opens one tx queue per vCPU: a multi-queue link on which taprio can run,
- a small empty NVMe data disk (qemu's nvme device), so the I/O scheduler rules meet an NVMe disk,
- its serial port (GRUB, kernel, kgdboc) logged to serial.log and reachable on serial.sock,
- a QMP socket for a clean stop.
Everything a lab owns lives under workbench/lab/run/<lab>/; state.json is written before any qemu starts so
that `down` can clean up after any failure.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time

from hyperion_lab import image as lab_image
from hyperion_lab.common import IMAGE_COMMANDS, RUN_DIR, LabError, call, log, pid_alive, require, run, spawn, tail, validate_suite, wait_until
from hyperion_lab.inventory import write_inventory_files

DEFAULT_LAB = "demo"
DEMO_NAMES = ("lab1", "cafe1", "cafe2")
DEFAULT_MEMORY_MIB = 1024
DEFAULT_CPUS = 2
MEMORY_RESERVE_MIB = 2048
DEFAULT_BOOT_TIMEOUT = 600
MAX_MACHINES = 32
PEER_NETWORK = "10.77.0.%d/24"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
MARKER = "hyperion-lab-"
# The host commands that start machines and reach them.
START_COMMANDS = ("qemu-img", "qemu-system-x86_64", "ssh")
NVME_DISK = "nvme.qcow2"
NVME_DISK_SIZE = "64M"


class Machine:
    """One planned or running machine; its dict form is what state.json stores."""

    def __init__(self, lab, name, index, suite, memory_mib, cpus):
        self.lab = lab
        self.name = name
        self.index = index
        self.suite = suite
        self.memory_mib = memory_mib
        self.cpus = cpus
        self.ssh_port = None
        self.pid = None

    @property
    def directory(self):
        return os.path.join(lab_dir(self.lab), self.name)

    @property
    def serial_log(self):
        return os.path.join(self.directory, "serial.log")

    @property
    def qemu_name(self):
        # Appears in the qemu command line: how `down` recognises this lab's processes.
        return "%s%s-%s" % (MARKER, self.lab, self.name)

    @property
    def uplink_mac(self):
        return "52:54:00:a7:00:%02x" % self.index

    @property
    def peer_mac(self):
        return "52:54:00:a7:01:%02x" % self.index

    @property
    def peer_addr(self):
        return PEER_NETWORK % self.index

    def to_dict(self):
        return {
            "name": self.name, "index": self.index, "suite": self.suite, "memory_mib": self.memory_mib, "cpus": self.cpus,
            "ssh_port": self.ssh_port, "pid": self.pid, "serial_log": self.serial_log,
            "peer_addr": self.peer_addr, "peer_mac": self.peer_mac, "uplink_mac": self.uplink_mac,
        }

    @classmethod
    def from_dict(cls, lab, data):
        machine = cls(lab, data["name"], data["index"], data["suite"], data["memory_mib"], data["cpus"])
        machine.ssh_port = data.get("ssh_port")
        machine.pid = data.get("pid")
        return machine

    def qemu_argv(self, peer_group, tcg_thread="multi"):
        """qemu's command line; paths are relative: qemu runs inside the machine's directory."""
        identity = "hyperion-lab host=%s peer_mac=%s peer_addr=%s" % (self.name, self.peer_mac, self.peer_addr)
        return [
            "qemu-system-x86_64", "-name", "guest=" + self.qemu_name,
            "-accel", "tcg,thread=" + tcg_thread, "-cpu", "max", "-smp", str(self.cpus), "-m", str(self.memory_mib),
            "-nodefaults", "-display", "none",
            "-drive", "file=overlay.qcow2,format=qcow2,if=virtio,cache=unsafe",
            "-drive", "file=%s,format=qcow2,if=none,id=nvme0,cache=unsafe" % NVME_DISK,
            "-device", "nvme,drive=nvme0,serial=hyperion-lab-%s" % self.name,
            "-netdev", "user,id=uplink,hostfwd=tcp:127.0.0.1:%d-:22" % self.ssh_port,
            "-device", "virtio-net-pci,netdev=uplink,mac=%s" % self.uplink_mac,
            "-netdev", "socket,id=peer,mcast=%s,localaddr=127.0.0.1" % peer_group,
            "-device", "vmxnet3,netdev=peer,mac=%s" % self.peer_mac,
            "-chardev", "socket,id=serial0,path=serial.sock,server=on,wait=off,logfile=serial.log,logappend=on",
            "-serial", "chardev:serial0",
            "-qmp", "unix:qmp.sock,server=on,wait=off",
            "-smbios", "type=1,serial=" + identity.replace(",", ",,"),
            "-device", "virtio-rng-pci",
        ]


def tcg_thread(total_vcpus, host_cpus=None):
    """TCG threading: one host thread per vCPU while they fit on the host's cores. Beyond that,
    vCPUs of one guest preempt each other (a spinning vCPU keeps the lock holder off the core),
    and one thread per machine that runs its vCPUs in turn boots an overcommitted lab faster."""
    forced = os.environ.get("HYPERION_LAB_TCG_THREAD")
    if forced:
        if forced not in ("single", "multi"):
            raise LabError("HYPERION_LAB_TCG_THREAD must be single or multi, not %r" % forced)
        return forced
    host_cpus = os.cpu_count() if host_cpus is None else host_cpus
    return "multi" if total_vcpus <= host_cpus else "single"


def lab_dir(lab):
    return os.path.join(RUN_DIR, lab)


def validate_lab_name(lab):
    if not NAME_PATTERN.match(lab or "") or lab == "logs":
        raise LabError("bad lab name %r: use lower-case letters, digits and '-' (at most 31), not 'logs'" % lab)
    return lab


def default_names(count):
    """The demo fleet's names first (lab1, cafe1, cafe2), then node4, node5, ..."""
    return [DEMO_NAMES[i] if i < len(DEMO_NAMES) else "node%d" % (i + 1) for i in range(count)]


def validate_names(names):
    if not names:
        raise LabError("no machines asked for: give at least one")
    if len(names) > MAX_MACHINES:
        raise LabError("%d machines asked for; the lab runs at most %d" % (len(names), MAX_MACHINES))
    for name in names:
        if not NAME_PATTERN.match(name):
            raise LabError("bad machine name %r: use lower-case letters, digits and '-', starting with a letter" % name)
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise LabError("machine names given twice: %s" % ", ".join(duplicates))
    return names


def mem_available_mib(meminfo_text):
    for line in meminfo_text.splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) // 1024
    raise LabError("no MemAvailable in /proc/meminfo")


def check_memory(count, memory_mib, available_mib, reserve_mib=MEMORY_RESERVE_MIB):
    """Refuse, with the figures, a lab that would not fit in the host's available memory."""
    if memory_mib < 256:
        raise LabError("%d MiB per machine is too little for a Debian guest: give at least 256" % memory_mib)
    needed = count * memory_mib
    usable = available_mib - reserve_mib
    if needed > usable:
        raise LabError(
            "not enough memory: %d machines x %d MiB = %d MiB, but only %d MiB are usable "
            "(%d MiB available minus %d MiB kept for the host); at most %d machines of %d MiB fit"
            % (count, memory_mib, needed, max(usable, 0), available_mib, reserve_mib, max(usable, 0) // memory_mib, memory_mib)
        )
    return needed


def host_mem_available_mib():
    with open("/proc/meminfo", encoding="ascii") as handle:
        return mem_available_mib(handle.read())


def reserve_port(kind=socket.SOCK_STREAM, taken=()):
    """A free port on 127.0.0.1, held by the returned socket until the caller closes it."""
    for _attempt in range(50):
        sock = socket.socket(socket.AF_INET, kind)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        if port not in taken:
            return port, sock
        sock.close()
    raise LabError("found no free port on 127.0.0.1")


def port_is_free(port, kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def load_state(lab):
    path = os.path.join(lab_dir(lab), "state.json")
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise LabError("%s is damaged (%s): run `hyperion-lab down --lab %s`" % (path, exc, lab)) from exc


def save_state(lab, state):
    path = os.path.join(lab_dir(lab), "state.json")
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2)
    os.replace(path + ".tmp", path)


def plan(lab, names, suite, memory_mib=DEFAULT_MEMORY_MIB, cpus=DEFAULT_CPUS, available_mib=None):
    """Validate everything about a lab before anything starts; return its machines."""
    validate_lab_name(lab)
    validate_suite(suite)
    validate_names(names)
    if not 1 <= cpus <= 8:
        raise LabError("%d vCPUs per machine: choose 1 to 8" % cpus)
    check_memory(len(names), memory_mib, host_mem_available_mib() if available_mib is None else available_mib)
    return [Machine(lab, name, index, suite, memory_mib, cpus) for index, name in enumerate(names, start=1)]


def qemu_processes(marker):
    """pids of running processes whose command line carries marker (a lab's qemu name prefix)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"qemu-system-x86_64") and any(arg.startswith(b"guest=" + marker.encode()) for arg in argv):
            if pid_alive(int(entry)):
                found.append(int(entry))
    return sorted(found)


def up(lab, names, suite, memory_mib=DEFAULT_MEMORY_MIB, cpus=DEFAULT_CPUS, boot_timeout=DEFAULT_BOOT_TIMEOUT):
    machines = plan(lab, names, suite, memory_mib, cpus)
    # Every command of the start, and of the image build when no image is cached, before either begins.
    require(START_COMMANDS + (() if lab_image.cached_image(suite) else IMAGE_COMMANDS))
    state = load_state(lab)
    if state is not None or qemu_processes("%s%s-" % (MARKER, lab)):
        if qemu_processes("%s%s-" % (MARKER, lab)):
            raise LabError("lab %r is already up: bring it down first (make lab-down, or hyperion-lab down --lab %s)" % (lab, lab))
        down(lab, quiet=True)  # leftovers of a crashed run, no live machine
    manifest = lab_image.ensure_image(suite)
    started = time.monotonic()
    os.makedirs(lab_dir(lab))
    try:
        return _start(lab, machines, manifest, boot_timeout, started)
    except BaseException:
        log("tearing lab %r down after the failure" % lab)
        down(lab, quiet=True)
        raise


def _start(lab, machines, manifest, boot_timeout, started):
    private_key = os.path.join(lab_dir(lab), "id_ed25519")
    shutil.copyfile(manifest["private_key"], private_key)
    os.chmod(private_key, 0o600)
    held = []
    for machine in machines:
        machine.ssh_port, sock = reserve_port(taken=[m.ssh_port for m in machines if m is not machine])
        held.append(sock)
    group_port, group_sock = reserve_port(socket.SOCK_DGRAM)
    held.append(group_sock)
    # An organisation-local multicast group per lab, sent and received on the loopback interface only.
    peer_group = "239.255.77.%d:%d" % (1 + os.getpid() % 250, group_port)
    state = {"lab": lab, "suite": machines[0].suite, "image": manifest["image"], "kernel_version": manifest["kernel_version"],
             "private_key": private_key, "peer_group": peer_group, "machines": [m.to_dict() for m in machines]}
    save_state(lab, state)
    write_inventory_files(lab_dir(lab), lab, machines, private_key)
    for machine, sock in zip(machines, held):
        os.makedirs(machine.directory)
        run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", manifest["image"], os.path.join(machine.directory, "overlay.qcow2")])
        run(["qemu-img", "create", "-q", "-f", "qcow2", os.path.join(machine.directory, NVME_DISK), NVME_DISK_SIZE])
        sock.close()
        with open(os.path.join(machine.directory, "qemu.log"), "w", encoding="utf-8") as qemu_log:
            process = spawn(
                machine.qemu_argv(peer_group, tcg_thread(len(machines) * machine.cpus)), cwd=machine.directory,
                stdin=subprocess.DEVNULL, stdout=qemu_log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        machine.pid = process.pid
        state["machines"] = [m.to_dict() for m in machines]
        save_state(lab, state)
        log("started %s (pid %d, ssh 127.0.0.1:%d, peer %s)" % (machine.name, machine.pid, machine.ssh_port, machine.peer_addr))
    for sock in held:
        sock.close()
    _wait_for_ssh(lab, machines, boot_timeout, started)
    return state


def ssh_argv(lab, name, command=None):
    argv = ["ssh", "-F", os.path.join(lab_dir(lab), "ssh_config"), name]
    return argv + (["--"] + list(command) if command else [])


def ssh_ready(lab, name):
    try:
        result = call(ssh_argv(lab, name, ["true"]), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def _wait_for_ssh(lab, machines, boot_timeout, started):
    pending = list(machines)
    deadline = started + boot_timeout
    while pending:
        for machine in list(pending):
            if not pid_alive(machine.pid):
                raise LabError("%s: qemu exited during boot; qemu said:\n%s\nthe end of its serial log (%s):\n%s"
                               % (machine.name, tail(os.path.join(machine.directory, "qemu.log"), 10), machine.serial_log, tail(machine.serial_log)))
            if ssh_ready(lab, machine.name):
                log("%s answers SSH after %.0f s" % (machine.name, time.monotonic() - started))
                pending.remove(machine)
        if pending and time.monotonic() > deadline:
            machine = pending[0]
            raise LabError("%s did not answer SSH within %d s; the end of its serial log (%s):\n%s"
                           % (machine.name, boot_timeout, machine.serial_log, tail(machine.serial_log)))
        if pending:
            time.sleep(2)


def _qmp_quit(qmp_path):
    """Ask qemu to exit through QMP; False if it cannot be asked."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(qmp_path)
            reader = sock.makefile("r")
            reader.readline()  # greeting
            sock.sendall(b'{"execute": "qmp_capabilities"}\n')
            reader.readline()
            sock.sendall(b'{"execute": "quit"}\n')
            reader.readline()
    except OSError:
        return False
    return True


def _stop_pid(pid, qmp_path):
    if not (_qmp_quit(qmp_path) and wait_until(lambda: not pid_alive(pid), 15)):
        for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            if wait_until(lambda: not pid_alive(pid), grace):
                break
    # qemu outlives the launcher that started it, so init reaps it: give it a moment, so that
    # `ps` right after a stop shows no exited qemu either.
    wait_until(lambda: not os.path.exists("/proc/%d" % pid), 5, interval=0.1)


def down(lab, quiet=False):
    """Stop every machine of lab and remove its run state; verify that nothing is left."""
    validate_lab_name(lab)
    directory = lab_dir(lab)
    state = load_state(lab) or {"machines": []}
    marker = "%s%s-" % (MARKER, lab)
    machines = [Machine.from_dict(lab, data) for data in state["machines"]]
    for machine in machines:
        if machine.pid and machine.pid in qemu_processes(marker):
            _stop_pid(machine.pid, os.path.join(machine.directory, "qmp.sock"))
            if not quiet:
                log("stopped %s" % machine.name)
    # qemu processes of this lab that the state file does not know (a crash while writing it).
    for pid in qemu_processes(marker):
        _stop_pid(pid, "/nonexistent")
    left = qemu_processes(marker)
    if left:
        raise LabError("qemu processes of lab %r are still running after SIGKILL: %s" % (lab, " ".join(map(str, left))))
    busy = [m.ssh_port for m in machines if m.ssh_port and not port_is_free(m.ssh_port)]
    _keep_logs(lab, machines)
    shutil.rmtree(directory, ignore_errors=True)
    if busy and not quiet:
        log("note: port(s) %s are in use by another program now" % " ".join(map(str, busy)))
    if not quiet:
        log("lab %r is down: no qemu process, overlay or port of it is left" % lab)


def _keep_logs(lab, machines):
    """Serial logs outlive the lab (workbench/lab/run/logs/<lab>/) so that a failure can still be read."""
    logs = os.path.join(RUN_DIR, "logs", lab)
    for machine in machines:
        if os.path.exists(machine.serial_log):
            os.makedirs(logs, exist_ok=True)
            shutil.copyfile(machine.serial_log, os.path.join(logs, machine.name + "-serial.log"))


def labs():
    """Names of the labs that have run state."""
    if not os.path.isdir(RUN_DIR):
        return []
    return sorted(name for name in os.listdir(RUN_DIR) if os.path.exists(os.path.join(RUN_DIR, name, "state.json")))
