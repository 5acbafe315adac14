# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one benchmark variant and measure it: wall time, controller CPU, SSH and bytes.

Controller CPU is user+sys of everything the variant started, from getrusage(RUSAGE_CHILDREN).
SSH control masters (ControlPersist) fork away from the process that started them; this
process is made a child subreaper, so they are re-parented here, and after the variant they
are closed through their sockets and reaped, which adds their CPU (the encryption) to the
variant's. Each variant starts cold: no master is left from the one before.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ctypes
import os
import resource
import signal
import subprocess
import time

from fleet import close_control_masters

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _children(keep):
    """Pids whose parent is this process, except those in keep."""
    me = os.getpid()
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) in keep:
            continue
        try:
            with open('/proc/%s/stat' % entry) as handle:
                fields = handle.read().rpartition(')')[2].split()
        except (IOError, OSError):
            continue
        if int(fields[1]) == me:
            found.append(int(entry))
    return found


def reap_orphans(keep, timeout=10.0):
    """Wait for re-parented processes (closed control masters) so their CPU is counted."""
    deadline = time.time() + timeout
    pending = _children(keep)
    while pending and time.time() < deadline:
        for pid in list(pending):
            try:
                done, _status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                pending.remove(pid)
        time.sleep(0.05)
    return pending


def cpu_children():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def stop_group(proc):
    """End the process group a variant runs in (it was started as its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()


def run_measured(argv, env, fleet, control_dir, timeout, output_path):
    """Run argv to completion (or timeout) with stdout in output_path; the measurements."""
    keep = set(proc.pid for proc in fleet.procs)
    close_control_masters(control_dir)
    reap_orphans(keep)
    before = fleet.snapshot()
    cpu_before = cpu_children()
    started = time.monotonic()
    timed_out = False
    with open(output_path, 'w') as out, open(output_path + '.stderr', 'w') as err:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            stop_group(proc)
        except BaseException:
            # Stopped from outside (Ctrl-C, SIGTERM): the variant's process group goes too.
            stop_group(proc)
            raise
    wall = time.monotonic() - started
    # Masters hold a session per host open; closing them lets sshd finish its accounting too.
    masters = close_control_masters(control_dir)
    reap_orphans(keep)
    cpu = cpu_children() - cpu_before
    time.sleep(0.5)  # sshd reaps its per-connection children on SIGCHLD
    measured = fleet.delta(before)
    measured.update(rc=proc.returncode, timed_out=timed_out, wall_s=round(wall, 2),
                    controller_cpu_s=round(cpu, 2), control_masters_closed=masters)
    return measured
