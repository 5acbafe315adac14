# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""workbench/tools/cpu-usage on a fake /proc tree (two samples of a qemu guest, Ansible and its children, ssh,
pytest) and its summary of a recording beside a `make test` output whose lanes cross midnight."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import signal
import subprocess
import sys
import time

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import load_script

TOOL = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tools', 'cpu-usage')
TICKS = 100  # per second, as SC_CLK_TCK on Linux


cpu_usage = load_script('cpu_usage', TOOL)


def write_host(proc, user, system, idle, iowait, irq_softirq_steal, guest):
    # The fields of the first line: user nice system idle iowait irq softirq steal guest guest_nice.
    (proc / 'stat').write_text('cpu  %d 0 %d %d %d %d %d %d %d 0\ncpu0 1 0 0 0 0 0 0 0 0 0\ncpu1 1 0 0 0 0 0 0 0 0 0\nintr 0\n'
                               % ((user, system, idle, iowait) + irq_softirq_steal + (guest,)))


def write_process(proc, pid, ppid, argv, utime, stime, cutime=0, cstime=0, start=1000, comm=None):
    directory = proc / str(pid)
    directory.mkdir(exist_ok=True)
    comm = comm or (os.path.basename(argv[0])[:15] if argv else 'kworker/0:1')
    # Fields 3 to 22 of proc(5): state ppid pgrp session tty tpgid flags 4 x faults utime stime cutime cstime
    # priority nice threads itrealvalue starttime, then a few of the rest.
    (directory / 'stat').write_text('%d (%s) S %d %d %d 0 -1 4194560 10 0 0 0 %d %d %d %d 20 0 1 0 %d 1000 10 18446744073709551615\n'
                                    % (pid, comm, ppid, pid, pid, utime, stime, cutime, cstime, start))
    (directory / 'cmdline').write_bytes(b''.join(arg.encode() + b'\0' for arg in argv))


def remove_process(proc, pid):
    for name in ('stat', 'cmdline'):
        (proc / str(pid) / name).unlink()
    (proc / str(pid)).rmdir()


QEMU = ['qemu-system-x86_64', '-name', 'guest=hyperion-lab-rollout-node1', '-accel', 'tcg,thread=multi', '-smp', '1']
PLAYBOOK = ['/srv/checkout/.venv/bin/python3', '/srv/checkout/.venv/bin/ansible-playbook', '-i', 'inventory', 'site.yml']


def test_cpu_between_two_samples_by_category(tmp_path):
    proc = tmp_path / 'proc'
    proc.mkdir()
    write_host(proc, user=1000, system=500, idle=3000, iowait=10, irq_softirq_steal=(5, 5, 0), guest=0)
    write_process(proc, 1, 0, ['/sbin/init'], 0, 0)
    write_process(proc, 200, 1, QEMU, 1000, 200)
    write_process(proc, 300, 1, PLAYBOOK, 500, 50)
    write_process(proc, 301, 300, ['/srv/checkout/.venv/bin/python3', '-c', 'import json'], 100, 10)  # a python child: ansible's
    write_process(proc, 302, 300, ['ssh: /root/.ansible/cp/0a1b2c [mux]'], 20, 30)  # the ControlMaster, retitled
    write_process(proc, 400, 1, ['/bin/bash'], 10, 0)
    write_process(proc, 401, 400, ['python3', '-m', 'pytest', '-q', 'tests/unit'], 700, 100, comm='python3 (x) y')
    write_process(proc, 402, 401, ['/bin/sh', '-c', 'true'], 1, 1)
    write_process(proc, 500, 1, ['sleep', '600'], 40, 10, start=1000)
    first = cpu_usage.take_sample(str(proc), now=5000.0)

    # Busy: 1300 user (its 300 of guest time included), 200 system, 15 irq, softirq and steal; idle: 50 + 10 iowait.
    write_host(proc, user=2300, system=700, idle=3050, iowait=20, irq_softirq_steal=(10, 10, 5), guest=300)
    write_process(proc, 1, 0, ['/sbin/init'], 1, 0, cutime=50 + 3)  # reaped sleep: its 50 counted before, 3 since
    write_process(proc, 200, 1, QEMU, 1900, 280)  # 980 ticks
    # 160 ticks of its own; it reaped its python child (110 counted before, 40 since) and a task worker never
    # seen in a sample (70): 220 reaped, of which 110 are new.
    write_process(proc, 300, 1, PLAYBOOK, 650, 60, cutime=200, cstime=20)
    remove_process(proc, 301)
    write_process(proc, 302, 300, ['ssh: /root/.ansible/cp/0a1b2c [mux]'], 35, 40)  # 25
    write_process(proc, 303, 300, ['/usr/bin/python3', '/root/.ansible/tmp/AnsiballZ_command.py'], 10, 2, start=4990)  # new: 12
    write_process(proc, 400, 1, ['/bin/bash'], 12, 0)  # 2
    write_process(proc, 401, 400, ['python3', '-m', 'pytest', '-q', 'tests/unit'], 950, 150, comm='python3 (x) y')  # 300
    write_process(proc, 402, 401, ['/bin/sh', '-c', 'true'], 4, 3)  # 5
    # pid 500 reused since: another process (another start time), an ssh under bash that used 7 ticks.
    write_process(proc, 500, 400, ['ssh', '-p', '2222', 'root@127.0.0.1'], 5, 2, start=4995)
    second = cpu_usage.take_sample(str(proc), now=5010.5)

    line = cpu_usage.usage_line(first, second, TICKS)
    assert line == {
        'time': 5010.5, 'interval': 10.5, 'cpus': 2,
        'host': {'busy': 15.15, 'idle': 0.6},
        'cpu': {
            'qemu:hyperion-lab-rollout-node1': 9.8,
            'ansible': 2.82,  # 160 + 110 + 12 ticks
            'ssh': 0.32,  # 25 + 7
            'pytest': 3.05,  # 300 + 5
            'other': 0.06,  # bash 2, init 1 + 3
        },
    }


def test_categories_of_command_lines():
    assert cpu_usage.own_category(['qemu-system-x86_64', '-name', 'guest=hyperion-lab-trial-b2,debug-threads=on']) == 'qemu:hyperion-lab-trial-b2'
    assert cpu_usage.own_category(['/usr/bin/qemu-system-x86_64', '-name', 'plain']) == 'qemu:plain'
    assert cpu_usage.own_category(['sshd: root@notty']) == 'ssh'
    assert cpu_usage.own_category(['/usr/bin/ssh', '-o', 'ControlPersist=60s', 'root@127.0.0.1']) == 'ssh'
    assert cpu_usage.own_category(['/v/bin/python', '-u', '/v/bin/molecule', 'test', '-s', 'rollout']) == 'ansible'
    assert cpu_usage.own_category(['/v/bin/python3.11', '/v/bin/ansible-test', 'sanity']) == 'ansible'
    assert cpu_usage.own_category(['/v/bin/ansible-lint', '--profile', 'production']) == 'ansible'
    assert cpu_usage.own_category(['/v/bin/python', '-W', 'ignore', '-m', 'pytest', '-q']) == 'pytest'
    assert cpu_usage.own_category(['/v/bin/python', '-c', 'import ansible']) is None  # its ancestors' category
    assert cpu_usage.own_category(['make', 'test']) is None
    assert cpu_usage.own_category([]) is None  # a kernel thread


def test_record_appends_a_line_per_sample_and_ends_cleanly_on_sigterm(tmp_path):
    proc = tmp_path / 'proc'
    proc.mkdir()
    write_host(proc, user=1000, system=500, idle=3000, iowait=10, irq_softirq_steal=(5, 5, 0), guest=0)
    write_process(proc, 200, 1, QEMU, 1000, 200)
    out = tmp_path / 'cpu-usage.jsonl'
    recorder = subprocess.Popen([sys.executable, TOOL, 'record', str(out), '--interval', '0.1', '--proc', str(proc)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 2):
        time.sleep(0.05)
    recorder.send_signal(signal.SIGTERM)
    _out, err = recorder.communicate(timeout=20)
    assert recorder.returncode == 0, err
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) >= 2  # and the last one, taken on the signal
    assert all(line['host'] == {'busy': 0.0, 'idle': 0.0} and line['cpu'] == {} and line['cpus'] == 2 for line in lines)
    assert all(0 <= line['interval'] < 5 for line in lines)


def local(hour, minute, second=0, day=7):
    return datetime.datetime(2026, 12, day, hour, minute, second).timestamp()


# Lane lines as test-lanes prints them, with unprefixed lines of the quick checks before, across midnight.
MAKE_TEST_OUTPUT = """\
PYTHONPATH=.build/collections .venv/bin/python -m pytest -q tests/unit
412 passed in 61.20s
23:55:00 [lane 1: molecule-rollout] molecule test -s rollout
23:55:00 [lane 2: molecule-host-config] molecule test -s host_config
00:02:00 [lane 2: molecule-host-config] PLAY RECAP *****
00:03:20 [lane 2: lint] .venv/bin/ansible-lint --profile production
00:05:00 [lane 2: lint] Passed: 0 failure(s), 0 warning(s)
00:08:00 [lane 1: molecule-rollout] INFO     Pruning extra files from scenario ephemeral directory
"""


def test_summary_by_category_and_by_lane_target(tmp_path, capsys):
    # One sample a minute from 23:50 to 00:10: before the lanes (to 23:55) only other, then two guests and the rest.
    samples = tmp_path / 'cpu-usage.jsonl'
    with open(str(samples), 'w') as handle:
        for minute in range(1, 21):
            end = local(23, 50) + 60 * minute
            if minute <= 5:
                line = {'time': end, 'interval': 60.0, 'cpus': 2, 'host': {'busy': 60.0, 'idle': 60.0}, 'cpu': {'other': 60.0}}
            else:
                line = {'time': end, 'interval': 60.0, 'cpus': 2, 'host': {'busy': 114.0, 'idle': 6.0},
                        'cpu': {'qemu:hyperion-lab-rollout-node1': 60.0, 'qemu:hyperion-lab-host_config-node1': 30.0, 'ansible': 12.0, 'ssh': 6.0}}
            handle.write(json.dumps(line) + '\n')
        handle.write('{"time": 17966')  # cut by a hard kill: skipped
    log = tmp_path / 'make-test.out'
    log.write_text(MAKE_TEST_OUTPUT)

    assert cpu_usage.main(['summary', str(samples), '--by-lane', str(log)]) == 0
    printed = capsys.readouterr().out
    rows = [line.split() for line in printed.splitlines()]
    assert printed.splitlines()[0] == 'CPU use from 23:50:00 to 00:10:00: 20.0 min wall, 20 samples, 2 CPUs'
    assert printed.splitlines()[1] == 'host: 33.5 CPU min busy, 6.5 idle (84% busy)'
    assert ['qemu:hyperion-lab-rollout-node1', '15.0', '45%'] in rows
    assert ['qemu:hyperion-lab-host_config-node1', '7.5', '22%'] in rows
    assert ['qemu', '(all', 'guests)', '22.5', '67%'] in rows
    assert ['other', '5.0', '15%'] in rows
    assert ['ansible', '3.0', '9%'] in rows
    assert ['ssh', '1.5', '4%'] in rows
    assert ['host', 'busy', 'outside', 'these', '(kernel,', 'approximation)', '1.5', '4%'] in rows
    lanes = rows[[index for index, row in enumerate(rows) if row[:2] == ['lane', 'target']][0] + 1:]
    assert lanes == [
        # lane, target, start, wall, host busy, qemu, ansible, ssh, pytest, other
        ['(before', 'the', 'lanes)', '23:50:00', '5.0', '5.0', '0.0', '0.0', '0.0', '0.0', '5.0'],
        ['1', 'molecule-rollout', '23:55:00', '13.0', '24.7', '19.5', '2.6', '1.3', '0.0', '0.0'],
        # Ends where lint starts: 500 s, 114 busy and 90 qemu seconds a minute.
        ['2', 'molecule-host-config', '23:55:00', '8.3', '15.8', '12.5', '1.7', '0.8', '0.0', '0.0'],
        ['2', 'lint', '00:03:20', '1.7', '3.2', '2.5', '0.3', '0.2', '0.0', '0.0'],
    ]


def test_summary_of_an_empty_recording_says_so(tmp_path, capsys):
    samples = tmp_path / 'cpu-usage.jsonl'
    samples.write_text('')
    assert cpu_usage.main(['summary', str(samples)]) == 1
    assert 'no sample in' in capsys.readouterr().out
