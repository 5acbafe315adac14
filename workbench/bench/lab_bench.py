# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmarks on the VM lab: converged re-run, rollout batches, package distribution.

Runs deploy.yml against the demo lab (inventories/demo, lab machines lab1 cafe1 cafe2):

- distribution: bytes each guest received on its user-mode link (the controller's side of
  every guest: SSH and anything fetched through the controller) during the first run and the
  re-run, read from the guest's /proc/net/dev plus what a shutdown unit recorded before each
  reboot (RX_RECORDER); the package should cross once per host and not at all on the re-run;
- rollout: the first run's wall time per batch against the machines' own reboot time, taken
  from their serial consoles: each serial.log is followed while deploy.yml runs and every line
  gets the controller's clock; a reboot lasts from the first shutdown line to the login prompt;
- converge: the re-run of deploy.yml on the converged lab against a play that only gathers
  facts, with its changed count (json callback) and its reboots (boot_id before and after).

Every lab command goes through /tmp/vm-slot when that exists (shared machines), and the lab is
taken down at the end, also after a failure.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess
import sys
import threading
import time

from report import json_callback_document

# Lines of a serial console that mark a reboot's start, and its end (the machine is back).
SHUTDOWN_RE = re.compile(r'(reboot: Restarting system|systemd-shutdown|Stopping .*Session|Reached target .*Reboot'
                         r'|Rebooting\.|Will now restart|System is going down)', re.I)
BACK_RE = re.compile(r'(login: *$|Started .*OpenBSD Secure Shell server|Started ssh\.service)', re.I)
DEMO_LAB = 'demo'
SLOT = '/tmp/vm-slot'


# A boot through the firmware shows GRUB's banner: the start of a reboot whose shutdown was quiet.
GRUB_RE = re.compile(r'GNU GRUB +version')
ANSI_RE = re.compile(r'\x1b\[[0-9;:?]*[A-Za-z]')


def console_text(raw):
    """A serial console line without colour codes and carriage returns."""
    return ANSI_RE.sub('', raw.replace('\r', ''))


def reboot_windows(stamped_lines):
    """[(start, end)] seconds from (time, line) pairs: first shutdown line (or GRUB's banner, when
    the shutdown printed nothing) to the next line that shows the machine back (sshd started, login)."""
    windows = []
    start = None
    for when, raw in stamped_lines:
        line = console_text(raw)
        if start is None and (SHUTDOWN_RE.search(line) or GRUB_RE.search(line)):
            start = when
        elif start is not None and BACK_RE.search(line):
            windows.append((start, when))
            start = None
    return windows


class SerialFollower(threading.Thread):
    """Follows a growing serial.log and stamps each new line with time.monotonic()."""

    def __init__(self, path):
        super(SerialFollower, self).__init__(daemon=True)
        self.path = path
        self.lines = []
        self.stop_event = threading.Event()

    def run(self):
        offset = os.path.getsize(self.path) if os.path.exists(self.path) else 0
        pending = b''
        while not self.stop_event.is_set():
            try:
                with open(self.path, 'rb') as handle:
                    if os.path.getsize(self.path) < offset:
                        offset = 0  # the log was started anew
                    handle.seek(offset)
                    chunk = handle.read()
                    offset += len(chunk)
            except (IOError, OSError):
                chunk = b''
            now = time.monotonic()
            pending += chunk
            *complete, pending = re.split(br'\r?\n', pending)
            for raw in complete:
                self.lines.append((now, raw.decode('utf-8', 'replace')))
            time.sleep(0.2)

    def stop(self):
        self.stop_event.set()
        self.join(2)


# deploy.yml's plays that change hosts, a batch at a time (its preflight plays run every host at once).
ROLLOUT_PLAYS_RE = re.compile(r'^Roll out to ')


def batches_from_callback(data, play_pattern=None):
    """[(start, end, hosts)] of a run's batches from the json callback, in order.

    A batch of a serial play runs its hosts together: hosts whose first task started within
    the same task window share a batch. play_pattern (a compiled regex) keeps only the plays
    whose name it matches.
    """
    spans = {}
    for play in data.get('plays', []):
        if play_pattern is not None and not play_pattern.search((play.get('play') or {}).get('name') or ''):
            continue
        for task in play.get('tasks', []):
            for host, result in task.get('hosts', {}).items():
                duration = (task.get('task') or {}).get('duration') or {}
                if not duration.get('start'):
                    continue
                start, end = _iso_seconds(duration['start']), _iso_seconds(duration.get('end') or duration['start'])
                first, last = spans.get(host, (start, end))
                spans[host] = (min(first, start), max(last, end))
    ordered = sorted(spans.items(), key=lambda kv: kv[1][0])
    batches = []
    for host, (start, end) in ordered:
        if batches and start < batches[-1][1]:
            batches[-1] = (batches[-1][0], max(batches[-1][1], end), batches[-1][2] + [host])
        else:
            batches.append((start, end, [host]))
    return batches


def published_phases(data):
    """{host: {phase: (start, end)}} of the phases the rollout role published (hyperion_report,
    through set_stats), read from the json callback's custom stats; phases without both times are
    left out."""
    phases = {}
    for host, stats in (data.get('custom_stats') or {}).items():
        report = (stats or {}).get('hyperion_report') or {}
        for name, phase in (report.get('phases') or {}).items():
            if isinstance(phase, dict) and phase.get('start') and phase.get('end'):
                phases.setdefault(host, {})[name] = (_iso_seconds(phase['start']), _iso_seconds(phase['end']))
    return phases


def staging_span(phases):
    """(start, end) of the staging of every host, None when no host published one."""
    spans = [host_phases['staging'] for host_phases in phases.values() if 'staging' in host_phases]
    if not spans:
        return None
    return min(start for start, _end in spans), max(end for _start, end in spans)


def batch_figures(hosts, start, end, reboot_s, phases):
    """One batch against its goal: its wall time at most 1.2 times the machines' own reboot (the
    longest on the serial console) plus the gate (the longest published gate phase)."""
    gate = max([phases.get(host, {}).get('gate', (0.0, 0.0))[1] - phases.get(host, {}).get('gate', (0.0, 0.0))[0]
                for host in hosts] or [0.0])
    floor = reboot_s + gate if reboot_s else 0.0
    return {'hosts': hosts, 'wall_s': round(end - start, 1), 'reboot_s': round(reboot_s, 1), 'gate_s': round(gate, 1),
            'ratio': round((end - start) / floor, 3) if floor else None}


def batch_tasks(data, hosts, play_pattern=None, minimum_s=0.5):
    """Where one batch's time went: its tasks of at least MINIMUM_S seconds, in order, as
    [{'task', 's'}], and 'other_s', the sum of the shorter ones (set_fact, includes, skips)."""
    wanted = set(hosts)
    slow, other = [], 0.0
    for play in data.get('plays', []):
        if play_pattern is not None and not play_pattern.search((play.get('play') or {}).get('name') or ''):
            continue
        for task in play.get('tasks', []):
            if not wanted.intersection(task.get('hosts', {})):
                continue
            meta = task.get('task') or {}
            duration = meta.get('duration') or {}
            if not duration.get('start') or not duration.get('end'):
                continue
            seconds = _iso_seconds(duration['end']) - _iso_seconds(duration['start'])
            if seconds >= minimum_s:
                slow.append({'task': meta.get('name') or '', 's': round(seconds, 1)})
            else:
                other += seconds
    return {'tasks': slow, 'other_s': round(other, 1)}


ROLE_PATH_RE = re.compile(r'/roles/([^/]+)/')


def time_by_role(data, top=10):
    """Where a run's wall time went: task durations summed per role (a task outside any role counts
    for its playbook), and the slowest tasks. A task's duration spans all hosts of its batch."""
    by_role = {}
    tasks = []
    for play in data.get('plays', []):
        for task in play.get('tasks', []):
            meta = task.get('task') or {}
            duration = meta.get('duration') or {}
            if not duration.get('start') or not duration.get('end'):
                continue
            seconds = _iso_seconds(duration['end']) - _iso_seconds(duration['start'])
            path = meta.get('path') or ''
            match = ROLE_PATH_RE.search(path)
            owner = match.group(1) if match else os.path.basename(path.split(':')[0]) or 'unknown'
            by_role[owner] = by_role.get(owner, 0.0) + seconds
            tasks.append((seconds, owner, meta.get('name') or ''))
    tasks.sort(key=lambda entry: -entry[0])
    return {'by_role_s': dict((owner, round(seconds, 1)) for owner, seconds in sorted(by_role.items(), key=lambda kv: -kv[1])),
            'slowest_tasks': [{'s': round(seconds, 1), 'role': owner, 'task': name} for seconds, owner, name in tasks[:top]]}


def _iso_seconds(text):
    """Seconds of a UTC time as the json callback (microseconds) or the roles' phases (whole seconds) write it."""
    from datetime import datetime, timezone
    text = text.rstrip('Z')[:26]
    layout = '%Y-%m-%dT%H:%M:%S.%f' if '.' in text else '%Y-%m-%dT%H:%M:%S'
    return datetime.strptime(text, layout).replace(tzinfo=timezone.utc).timestamp()


def _slot(argv):
    return [SLOT] + argv if os.path.exists(SLOT) else argv


def _ansible_env(repo):
    env = dict(os.environ)
    env.update({'ANSIBLE_CONFIG': os.path.join(repo, 'ansible.cfg'),
                'ANSIBLE_COLLECTIONS_PATH': os.path.join(repo, '.build', 'collections'),
                'ANSIBLE_STDOUT_CALLBACK': 'ansible.builtin.json',
                # The roles publish each host's phases through set_stats (hyperion_report).
                'ANSIBLE_SHOW_CUSTOM_STATS': '1',
                # Without it the ad-hoc `ansible` command ignores the stdout callback.
                'ANSIBLE_LOAD_CALLBACK_PLUGINS': '1'})
    return env


def _json_document(text):
    """The json callback's document in a command's output, {} when there is none."""
    try:
        data = json_callback_document(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _playbook(repo, inventory, playbook, out_path, timeout):
    started = time.monotonic()
    with open(out_path, 'w') as out, open(out_path + '.stderr', 'w') as err:
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', inventory,
                               playbook], env=_ansible_env(repo), stdout=out, stderr=err, timeout=timeout, check=False)
    wall = time.monotonic() - started
    with open(out_path) as handle:
        text = handle.read()
    data = _json_document(text)
    stats = data.get('stats', {})
    return {'rc': proc.returncode, 'wall_s': round(wall, 1),
            'changed': sum(s.get('changed', 0) for s in stats.values()),
            'failures': sum(s.get('failures', 0) + s.get('unreachable', 0) for s in stats.values())}, data


# A reboot starts the link counters of /proc/net/dev at zero again, so every lab machine gets a
# unit that, at each shutdown, appends "boot_id device rx_bytes" of every link to RX_RECORD
# (it stops before network.target does). A machine's traffic since the start is then its
# current counter plus the last record of every earlier boot. The lab's overlays go with `down`.
RX_RECORD = '/var/lib/hyperion-bench/rx-at-shutdown'
# One awk program reads /proc/net/dev ("  ens3: 123 ..." or "ens3:123456789 ..." once the
# counter is wide): the first colon becomes a space, then device and rx_bytes are fields 1 and 2.
RX_AWK = "NR > 2 { line = $0; sub(/:/, \" \", line); split(line, f, \" \"); print PREFIX, f[1], f[2] }"
RX_RECORDER = '\n'.join([
    'set -e',
    'mkdir -p /var/lib/hyperion-bench /usr/local/lib/hyperion-bench',
    "cat > /usr/local/lib/hyperion-bench/record-rx <<'RECORDER'",
    '#!/bin/sh',
    'awk -v PREFIX="$(cat /proc/sys/kernel/random/boot_id)" \'%s\' /proc/net/dev >> %s' % (RX_AWK, RX_RECORD),
    'RECORDER',
    'chmod 0755 /usr/local/lib/hyperion-bench/record-rx',
    "cat > /etc/systemd/system/hyperion-bench-rx.service <<'UNIT'",
    '[Unit]',
    'Description=hyperion.kernel benchmark: record the link counters at shutdown',
    'After=network.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    'ExecStart=/bin/true',
    'ExecStop=/usr/local/lib/hyperion-bench/record-rx',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    'UNIT',
    'systemctl daemon-reload',
    'systemctl enable --now hyperion-bench-rx.service',
    'systemctl is-active hyperion-bench-rx.service',
    ''])
# boot_id, the default route's device, the current counters ("now DEV RX") and the records of earlier boots.
RX_PROBE = ("cat /proc/sys/kernel/random/boot_id; ip -o route show default | awk '{print $5; exit}';"
            " awk -v PREFIX=now '%s' /proc/net/dev; cat %s 2>/dev/null || true" % (RX_AWK, RX_RECORD))


def rx_since_start(text):
    """(boot_id, bytes) a machine's default link received since the recorder was installed, over
    reboots: the current counter plus the last shutdown record of each earlier boot. From RX_PROBE's
    output; ValueError when it has no counter for the default link."""
    lines = [line.split() for line in text.replace('\r', '').split('\n') if line.strip()]
    if len(lines) < 3:
        raise ValueError('too short a probe output: %r' % text)
    boot_id, device = lines[0][0], lines[1][0]
    current = [int(f[2]) for f in lines[2:] if len(f) == 3 and f[0] == 'now' and f[1] == device]
    if not current:
        raise ValueError('no counter of %s in %r' % (device, text))
    earlier = {}
    for fields in lines[2:]:
        if len(fields) == 3 and fields[0] not in ('now', boot_id) and fields[1] == device:
            earlier[fields[0]] = int(fields[2])  # the last record of a boot is its shutdown's
    return boot_id, current[0] + sum(earlier.values())


def _ad_hoc_raw(repo, inventory, command, out_path, timeout=300):
    """Each lab machine's result of one raw command as root (json callback), keyed by host."""
    # The lab's login is unprivileged: the recorder writes /etc and /var/lib, so the command escalates.
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible'), 'hyperion_fleet', '-i', inventory,
                           '--become', '-m', 'ansible.builtin.raw', '-a', command], env=_ansible_env(repo),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=timeout, check=False)
    with open(out_path, 'w') as handle:
        handle.write(proc.stdout)
    return _json_document(proc.stdout).get('plays', [{}])[0].get('tasks', [{}])[0].get('hosts', {})


def _install_rx_recorder(repo, inventory, out_path):
    results = _ad_hoc_raw(repo, inventory, RX_RECORDER, out_path)
    broken = sorted(host for host, result in results.items() if result.get('rc') != 0)
    if not results or broken:
        raise ValueError('the link counter recorder could not be installed on %s' % (', '.join(broken) or 'any host'))


def _guest_facts(repo, inventory, out_path):
    """boot_id and bytes received on the default link since the recorder was installed, per lab
    machine; a machine whose probe failed (unreachable) is left out, and with it its figures."""
    facts = {}
    for host, result in _ad_hoc_raw(repo, inventory, RX_PROBE, out_path).items():
        try:
            boot_id, rx_bytes = rx_since_start(result.get('stdout') or '')
        except ValueError:
            continue
        facts[host] = {'boot_id': boot_id, 'rx_bytes': rx_bytes}
    return facts


def clean(lab=DEMO_LAB, log=print):
    workbench = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.isdir(os.path.join(workbench, 'lab', 'run', lab)):
        subprocess.run([os.path.join(workbench, 'lab', 'bin', 'hyperion-lab'), 'down', '--lab', lab], check=False)
        log('lab %s taken down' % lab)


def run(parts, args, repo, out_dir, log=print):
    """converge / rollout / distribution sections; each says why when it could not run."""
    deploy = next((p for p in (os.path.join(repo, 'deploy.yml'), os.path.join(repo, 'playbooks', 'deploy.yml'))
                   if os.path.isfile(p)), None)
    sections = {}
    if deploy is None:
        for part in parts:
            sections[part] = {'status': 'not run: deploy.yml is not in the repository yet'}
        return sections
    lab = args.lab if args.lab != 'bench' else DEMO_LAB  # inventories/demo reads workbench/lab/run/demo
    os.makedirs(out_dir, exist_ok=True)
    inventory = os.path.join(repo, 'inventories', 'demo')
    bare = os.path.join(out_dir, 'gather_facts_only.json')
    with open(bare, 'w') as handle:
        json.dump([{'name': 'Gather facts only (baseline)', 'hosts': 'hyperion_fleet', 'gather_facts': True,
                    'tasks': []}], handle)
    hyperion_lab = os.path.join(repo, 'workbench', 'lab', 'bin', 'hyperion-lab')
    try:
        log('lab: starting %s (through the VM slot)' % lab)
        subprocess.run(_slot([hyperion_lab, 'up', '--lab', lab]), check=True, timeout=1800)
        with open(os.path.join(repo, 'workbench', 'lab', 'run', lab, 'machines.json')) as handle:
            machines = json.load(handle)
        followers = dict((name, SerialFollower(record['serial_log'])) for name, record in machines.items())
        for follower in followers.values():
            follower.start()
        _install_rx_recorder(repo, inventory, os.path.join(out_dir, 'rx-recorder.json'))
        before = _guest_facts(repo, inventory, os.path.join(out_dir, 'facts-0.json'))
        first, first_data = _playbook(repo, inventory, deploy, os.path.join(out_dir, 'deploy-1.json'), args.lab_timeout)
        middle = _guest_facts(repo, inventory, os.path.join(out_dir, 'facts-1.json'))
        probe = _guest_facts(repo, inventory, os.path.join(out_dir, 'facts-1b.json'))
        second, second_data = _playbook(repo, inventory, deploy, os.path.join(out_dir, 'deploy-2.json'), args.lab_timeout)
        after = _guest_facts(repo, inventory, os.path.join(out_dir, 'facts-2.json'))
        facts_only, _data = _playbook(repo, inventory, bare, os.path.join(out_dir, 'facts-only.json'), args.timeout)
        for follower in followers.values():
            follower.stop()
        log('lab: deploy first run %s, re-run %s, facts only %s' % (first, second, facts_only))

        if 'converge' in parts:
            reboots = sum(1 for h in after if h in middle and after[h]['boot_id'] != middle[h]['boot_id'])
            ratio = round(second['wall_s'] / facts_only['wall_s'], 2) if facts_only['wall_s'] else None
            sections['converge'] = {
                'status': 'run', 'first_run': first, 'rerun': second, 'facts_only': facts_only,
                'wall_s': {'value': second['wall_s'], 'baseline': facts_only['wall_s'], 'ratio': ratio,
                           'goal': '<= 1.5', 'met': ratio is not None and ratio <= 1.5},
                'changed': {'value': second['changed'], 'goal': '0', 'met': second['changed'] == 0},
                'reboots': {'value': reboots, 'goal': '0', 'met': reboots == 0},
                'rerun_time': time_by_role(second_data),
                'first_run_time': time_by_role(first_data),
            }
        if 'rollout' in parts:
            phases = published_phases(first_data)
            batches = []
            for start, end, hosts in batches_from_callback(first_data, ROLLOUT_PLAYS_RE):
                reboot = 0.0
                for host in hosts:
                    follower = followers.get(host)
                    windows = reboot_windows(follower.lines) if follower else []
                    if windows:
                        reboot = max(reboot, max(b - a for a, b in windows))
                figures = batch_figures(hosts, start, end, reboot, phases)
                figures['time'] = batch_tasks(first_data, hosts, ROLLOUT_PLAYS_RE)
                batches.append(figures)
            ratios = [b['ratio'] for b in batches if b['ratio'] is not None]
            worst = max(ratios) if ratios else None
            staging = staging_span(phases)
            staging_s = round(staging[1] - staging[0], 1) if staging else None
            batches_s = round(sum(b['wall_s'] for b in batches), 1)
            sections['rollout'] = {
                'status': 'run' if ratios else 'run, but no reboot was found in the serial logs',
                'batches': batches,
                'batch_ratio': {'value': worst, 'goal': '<= 1.2 (batch / (reboot + gate))',
                                'met': worst is not None and worst <= 1.2},
                'evening_s': {'staging': staging_s, 'batches': batches_s,
                              'total': round(staging_s + batches_s, 1) if staging_s is not None else None,
                              'run': first['wall_s']},
            }
        if 'distribution' in parts:
            # The two fact probes in a row measure what one probe itself costs.
            probe_cost = dict((h, probe[h]['rx_bytes'] - middle[h]['rx_bytes']) for h in probe if h in middle)
            first_bytes = dict((h, middle[h]['rx_bytes'] - before[h]['rx_bytes'] - probe_cost.get(h, 0))
                               for h in middle if h in before)
            rerun_bytes = dict((h, after[h]['rx_bytes'] - probe[h]['rx_bytes'] - probe_cost.get(h, 0))
                               for h in after if h in probe)
            # The demo inventory copies the test kernel's image from the controller to each host
            # (a SourceError, when there is no build, is a ValueError).
            sys.path.insert(0, os.path.join(repo, '.build', 'collections'))
            from ansible_collections.hyperion.kernel.plugins.plugin_utils.build_result import package_dir, read_build_result
            package_bytes = os.path.getsize(read_build_result(package_dir(os.environ))['image'])
            first_max = max(first_bytes.values()) if first_bytes else None
            first_min = min(first_bytes.values()) if first_bytes else None
            rerun_max = max(rerun_bytes.values()) if rerun_bytes else None
            sections['distribution'] = {
                'status': 'run', 'package_bytes': package_bytes,
                'per_host_first_run': first_bytes, 'per_host_rerun': rerun_bytes,
                'first_run_bytes_per_host': {'value': first_max, 'baseline': package_bytes,
                                             'ratio': round(first_max / package_bytes, 2) if first_max else None,
                                             'goal': 'the package once per host (1 to 2 x its size)',
                                             'met': first_min is not None and package_bytes <= first_min < 2 * package_bytes},
                'rerun_bytes_per_host': {'value': rerun_max, 'baseline': package_bytes,
                                         'ratio': round(rerun_max / package_bytes, 2) if rerun_max is not None else None,
                                         'goal': 'no package: below its size', 'met': rerun_max is not None and rerun_max < package_bytes},
            }
    except (subprocess.SubprocessError, OSError, ValueError, KeyError) as exc:
        for part in parts:
            sections.setdefault(part, {'status': 'failed: %s' % exc})
    finally:
        clean(lab, log=log)
    return sections
