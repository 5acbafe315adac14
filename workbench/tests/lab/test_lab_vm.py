"""The VM lab for real: build or reuse the image, boot two machines, reach them, read what
GRUB passed, exercise taprio on the machines' own network, stop cleanly; a boot that misses its
time limit is reported and torn down. The reboot through ansible.builtin.reboot is proved by the
lab_smoke molecule scenario (side_effect and its testinfra checks), the other half of `make test-lab`.

Marked `vm`: run by `make test-lab-vm` (part of `make test-lab`), not by `make unit`.
"""
import base64
import json
import os
import re
import shlex
import subprocess
import sys

import pytest

from hyperion_lab import machines

pytestmark = pytest.mark.vm

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CLI = os.path.join(REPO, "workbench", "lab", "bin", "hyperion-lab")
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


# ---------------------------------------------------------------- qdisc plans against the real tc (issue 22)

def _collection():
    """The collection's planner and the shared plan strategies (the checkout, as `make setup` links it)."""
    path = os.path.join(REPO, ".build", "collections")
    if path not in sys.path:
        sys.path.insert(0, path)
    from ansible_collections.hyperion.kernel.plugins.module_utils import qdisc_boot, qdisc_plan
    from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
    from ansible_collections.hyperion.kernel.tests.unit.plugins.module_utils import qdisc_strategies
    return qdisc_boot, qdisc_plan, HyperionError, qdisc_strategies


# A dummy device with 8 tx queues and no link speed: taprio takes 10 Mbit/s, as the planner assumes.
DUMMY_SETUP = ("modprobe dummy numdummies=0 && for m in sch_cake sch_taprio sch_etf sch_fq sch_fq_codel sch_mq; "
               "do modprobe $m; done; ip link del {dev} 2>/dev/null; ip link add {dev} numtxqueues 8 type dummy && "
               "ip link set {dev} up")


def _sections(text, marker):
    """{index: (header words, body)} of output cut at lines '@@<marker> <index> <words>' (a body ends at the
    next '@@' line of any marker)."""
    found, current = {}, None
    for line in text.splitlines():
        if line.startswith("@@%s " % marker):
            words = line.split()[1:]
            current = int(words[0])
            found[current] = [words[1:], []]
        elif line.startswith("@@"):
            current = None
        elif current is not None:
            found[current][1].append(line)
    return dict((index, (words, "\n".join(body))) for index, (words, body) in found.items())


def test_generated_qdisc_plans_that_validate_are_accepted_by_tc(lab):
    """40 plans drawn with a fixed seed (cake, fq_codel, fq, mq with children, taprio with etf): each one the
    planner accepts goes through `tc -batch` as the boot-time unit runs it, on a fresh 8-queue dummy device, in
    one ssh session. tc must accept every one, and the tree the kernel reports must be the plan (the planner
    finds nothing left to do)."""
    del lab
    qdisc_boot, qdisc_plan, HyperionError, strategies = _collection()
    dev = "hyp0"
    accepted, refused = [], []
    # Every fifth of 200 draws: hypothesis draws neighbours of earlier examples, the stride spreads the sample.
    for index, qdiscs in enumerate(strategies.fixed_sample(strategies.plans(8), 200)[::5]):
        try:
            plan = qdisc_plan.normalize_plan(qdiscs)
            qdisc_plan.validate_for_device(plan, dev, 8)
        except HyperionError as exc:
            refused.append((index, str(exc)))
            continue
        accepted.append((index, qdiscs, plan, qdisc_boot.batch_text(dev, qdiscs)))
    assert len(accepted) >= 25, (len(accepted), refused)
    script = [DUMMY_SETUP.format(dev=dev)]
    for index, _qdiscs, _plan, batch in accepted:
        encoded = base64.b64encode(batch.encode()).decode()
        script.append("tc qdisc del dev {dev} root 2>/dev/null; echo {b64} | base64 -d > /tmp/hyp-plan.tc; "
                      "tc -batch /tmp/hyp-plan.tc > /tmp/hyp-plan.out 2>&1; echo \"@@PLAN {i} $?\"; "
                      "cat /tmp/hyp-plan.out; echo; echo \"@@TREE {i}\"; tc -j qdisc show dev {dev}; echo"
                      .format(dev=dev, b64=encoded, i=index))
    script.append("ip link del %s" % dev)
    result = on("vm1", "; ".join(script), check=False, root=True)
    plans_out, trees = _sections(result.stdout, "PLAN"), _sections(result.stdout, "TREE")
    problems = []
    for index, qdiscs, plan, batch in accepted:
        if index not in plans_out:
            problems.append("plan %d: no output (%s)" % (index, result.stderr[-500:]))
            continue
        words, output = plans_out[index]
        if words != ["0"]:
            problems.append("plan %d refused by tc (rc %s): %s\n%s" % (index, words[0], output.strip(), batch))
            continue
        live = qdisc_plan.live_tree(trees[index][1], dev)
        left = qdisc_plan.plan_steps(dev, plan, live)
        if left:
            problems.append("plan %d: tc accepted it, but the kernel reports %s\n%s" % (
                index, "; ".join(reason for _argv, reason in left), batch))
    print("generated plans: %d accepted by the planner and applied, %d refused by it" % (len(accepted), len(refused)))
    assert not problems, "\n".join(problems)


# Past the limits: (plan the validator must refuse, what it must say, the tc command a planner without the
# limit would run, the tc -j option and value the plan asked for). tc must refuse the command, or the kernel
# must then report something else than what was asked (the value is dropped, capped or rounded). Each runs
# over a cake 1: root: the cake cases change it (same kind and handle, so a dropped option keeps the old
# value), the others graft a new root under another handle (the same handle would be refused for the kind).
_TAPRIO = ("taprio num_tc 2 map 0 1 queues 1@0 1@1 clockid CLOCK_TAI ")
LIMIT_CASES = [
    ([{"kind": "cake", "options": {"bandwidth": "100 mbit"}}], "without a space",
     "root handle 1: cake bandwidth '100 mbit'", ("bandwidth", 12500000)),
    ([{"kind": "cake", "options": {"bandwidth": "0"}}], "write unlimited",
     "root handle 1: cake bandwidth 0", ("bandwidth", 0)),
    ([{"kind": "cake", "options": {"bandwidth": "20000000000000000000Bps"}}], "option bandwidth must be from 1 to",
     "root handle 1: cake bandwidth 20000000000000000000Bps", ("bandwidth", 20000000000000000000)),
    ([{"kind": "cake", "options": {"rtt": "0"}}], "option rtt must be from 1", "root handle 1: cake rtt 0", ("rtt", 0)),
    ([{"kind": "cake", "options": {"overhead": 300}}], "option overhead must be from -64 to 256",
     "root handle 1: cake overhead 300", ("overhead", 300)),
    ([{"kind": "fq", "options": {"buckets": 1000}}], "not a power of two", "root handle 2: fq buckets 1000", ("buckets", 1000)),
    ([{"kind": "fq", "options": {"maxrate": "40gbit"}}], "option maxrate must be from 0 to 4294967294",
     "root handle 2: fq maxrate 40gbit", ("maxrate", 5000000000)),
    ([{"kind": "fq_codel", "options": {"quantum": 2000000}}], "option quantum must be from 256 to 1048576",
     "root handle 2: fq_codel quantum 2000000", ("quantum", 2000000)),
    ([{"kind": "fq_codel", "options": {"limit": 0}}], "option limit must be from 1", "root handle 2: fq_codel limit 0",
     ("limit", 0)),
    ([{"kind": "taprio", "handle": "100:", "options": {
        "num_tc": 2, "map": [0, 1], "queues": ["1@0", "1@1"], "clockid": "CLOCK_TAI",
        "sched_entries": [{"gatemask": "1", "interval": 2 ** 32}, {"gatemask": "2", "interval": 500000}]}}],
     "is beyond 4294967295", "root handle 100: " + _TAPRIO + "sched-entry S 01 4294967296 sched-entry S 02 500000",
     ("schedule", None)),
    ([{"kind": "taprio", "handle": "100:", "options": {
        "num_tc": 2, "map": [0, 1], "queues": ["1@0", "1@1"], "clockid": "CLOCK_TAI", "cycle_time": 600000,
        "sched_entries": [{"gatemask": "1", "interval": 500000}, {"gatemask": "2", "interval": 500000}]}}],
     "shorter than the sum", "root handle 100: " + _TAPRIO + "sched-entry S 01 500000 sched-entry S 02 500000 "
     "cycle-time 600000", ("cycle_time", 600000)),
    ([{"kind": "taprio", "handle": "100:", "options": {
        "num_tc": 2, "map": [0, 1], "queues": ["1@0", "1@1"], "clockid": "CLOCK_TAI",
        "sched_entries": [{"gatemask": "1", "interval": 1000}, {"gatemask": "2", "interval": 500000}]}}],
     "shorter than one minimum frame", "root handle 100: " + _TAPRIO + "sched-entry S 01 1000 sched-entry S 02 500000",
     ("schedule", None)),
]
# What the lab's tc (Debian trixie, iproute2 6.15) and kernel (6.12) did with each command, first seen on
# 2026-12-06: "refused", or the option as tc -j then reports it. A dropped option leaves the old cake
# 50mbit (6250000 bytes/s) or the kernel's default; 2e19 bytes/s does not fit tc's __u64 and comes out as
# 0, which tc does not send; fq rounds 1000 buckets up to 1024; the short taprio cycle is kept (and cuts
# the schedule); the 1000 ns interval is shorter than a frame at 10 Mbit/s.
LIMIT_OUTCOMES = ["refused", ("bandwidth", 6250000), ("bandwidth", 6250000), ("rtt", 100000), "refused",
                  ("buckets", 1024), "refused", "refused", ("limit", 10240), "refused", ("cycle_time", 600000),
                  "refused"]


def test_plans_past_the_limits_are_refused_or_misread_by_tc(lab):
    """Each plan the validator refuses for a limit is one tc refuses, or one whose value the kernel does not keep
    (from a cake 50mbit root, so a dropped option shows as the old value)."""
    del lab
    _qdisc_boot, qdisc_plan, HyperionError, _strategies = _collection()
    dev = "hyp1"
    for qdiscs, message, _command, _expected in LIMIT_CASES:
        with pytest.raises(HyperionError, match=re.escape(message)):
            qdisc_plan.validate_for_device(qdisc_plan.normalize_plan(qdiscs), dev, 8)
    script = [DUMMY_SETUP.format(dev=dev)]
    for index, (_qdiscs, _message, command, _expected) in enumerate(LIMIT_CASES):
        script.append("tc qdisc del dev {dev} root 2>/dev/null; tc qdisc replace dev {dev} root handle 1: cake "
                      "bandwidth 50mbit; tc qdisc replace dev {dev} {command} > /tmp/hyp-limit.out 2>&1; "
                      "echo \"@@CASE {i} $?\"; cat /tmp/hyp-limit.out; echo; echo \"@@TREE {i}\"; tc -j qdisc show dev {dev}; echo"
                      .format(dev=dev, command=command, i=index))
    script.append("ip link del %s" % dev)
    result = on("vm1", "; ".join(script), check=False, root=True)
    cases, trees = _sections(result.stdout, "CASE"), _sections(result.stdout, "TREE")
    kept, outcomes = [], []
    for index, (_qdiscs, _message, command, (key, asked)) in enumerate(LIMIT_CASES):
        assert index in cases, result.stdout[-2000:] + result.stderr[-1000:]
        rc = cases[index][0][0]
        root = [q for q in json.loads(trees[index][1]) if q.get("root")][0]
        options = root.get("options", {})
        # What tc did, for the record of a run (pytest -s).
        print("limit case %d: rc %s, %s; root %s %s %s=%s" % (index, rc, cases[index][1].strip()[:80], root["kind"],
                                                              root["handle"], key, options.get(key)))
        outcomes.append("refused" if rc != "0" else (key, options.get(key)))
        if rc != "0":
            continue
        if key == "schedule":
            kept.append((command, "tc and the kernel took the schedule: %s" % options.get("schedule")))
        elif key == "cycle_time":
            # Taken, the short cycle must be what the kernel keeps: the entries past it are cut.
            cycle = options.get("cycle_time", (options.get("admin") or {}).get("cycle_time"))
            if cycle != asked:
                kept.append((command, "the kernel changed the cycle to %s" % cycle))
        elif options.get(key) == asked:
            kept.append((command, options))
    assert not kept, "tc and the kernel took values the validator refuses: %s" % kept
    assert outcomes == LIMIT_OUTCOMES


def _tc_module(device, qdiscs, state="present"):
    """The real tc_qdisc module on vm1, as root: its result."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".build", "collections"),
               ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    args = json.dumps({"device": device, "state": state, "qdiscs": qdiscs})
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible"), "-i", os.path.join(machines.lab_dir(LAB), "hosts.yml"),
                           "vm1", "--become", "-m", "hyperion.kernel.tc_qdisc", "-a", args],
                          capture_output=True, text=True, env=env, check=False)
    assert "{" in proc.stdout, proc.stdout + proc.stderr
    document = json.JSONDecoder().raw_decode(proc.stdout[proc.stdout.index("{"):])[0]
    return document["plays"][0]["tasks"][0]["hosts"]["vm1"]


def test_the_module_grafts_instead_of_deleting_and_a_refused_graft_keeps_the_old_root(lab):
    """The planner's order on a real kernel: another kind on the same handle through a spare handle, a changed
    etf grafted under a spare handle, a taprio over a taprio deleted first; every step verified by the module.
    A graft the kernel refuses (fq_codel quantum beyond FQ_CODEL_QUANTUM_MAX, past tc's own checks) leaves the
    old root in place."""
    del lab
    dev = "hyp2"
    assert on("vm1", DUMMY_SETUP.format(dev=dev), check=False, root=True).returncode == 0
    taprio = {"parent": "root", "handle": "100:", "kind": "taprio", "options": {
        "num_tc": 3, "map": [2, 2, 1, 0], "queues": ["1@0", "1@1", "2@2"], "clockid": "CLOCK_TAI",
        "sched_entries": [{"gatemask": "0x1", "interval": 300000}, {"gatemask": "0x2", "interval": 300000},
                          {"gatemask": "0x4", "interval": 400000}]}}
    etf = {"parent": "100:1", "kind": "etf", "options": {"delta": 300000}}
    try:
        steps = [
            ([{"kind": "cake", "handle": "1:", "options": {"bandwidth": "50mbit"}}], None),
            ([{"kind": "fq_codel", "handle": "1:", "options": {"target": "3ms"}}], ["replace", "replace"]),
            ([taprio, etf], ["replace", "replace"]),
            ([taprio, dict(etf, options={"delta": 200000})], ["replace"]),
            ([dict(taprio, options=dict(taprio["options"], num_tc=2, map=[1, 1, 0], queues=["1@0", "1@1"],
                                        sched_entries=[{"gatemask": "0x1", "interval": 500000},
                                                       {"gatemask": "0x2", "interval": 500000}]))], ["del", "replace"]),
        ]
        for qdiscs, verbs in steps:
            result = _tc_module(dev, qdiscs)
            assert not result.get("failed"), result
            if verbs is not None:
                assert [argv[2] for argv in result["actions"]] == verbs, result["actions"]
            if qdiscs[0].get("kind") == "taprio" and len(qdiscs) == 2 and qdiscs[1]["options"]["delta"] == 200000:
                # The changed etf went in under a spare handle, grafted over the old one.
                assert result["actions"][0][5:9] == ["parent", "100:1", "handle", "fff0:"], result["actions"]
        # A graft the kernel refuses: the old root stays.
        assert on("vm1", "tc qdisc replace dev %s root handle 1: cake bandwidth 50mbit" % dev, root=True).returncode == 0
        refused = on("vm1", "tc qdisc replace dev %s root handle 2: fq_codel quantum 2000000" % dev, check=False, root=True)
        assert refused.returncode != 0, refused.stdout
        roots = [q for q in json.loads(on("vm1", "tc -j qdisc show dev %s" % dev, root=True).stdout) if q.get("root")]
        assert [(q["kind"], q["handle"]) for q in roots] == [("cake", "1:")], roots
        assert roots[0]["options"]["bandwidth"] == 6250000
    finally:
        on("vm1", "ip link del %s" % dev, check=False, root=True)


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
