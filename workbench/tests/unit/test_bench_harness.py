# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure parts of the benchmark harness (workbench/bench/): no fleet, no VM, no timing.

- the baselines' shell checks judge every profile item as the core does, on this machine's
  live /proc and /sys (both read them within a second of each other);
- the readers of each variant's output, on real outputs of a 2-host run (fixtures/bench);
- sampling, scaling, goal verdicts and the reboot windows of a serial log.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import json
import os
import re
import subprocess
import sys

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.check import evaluate
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import gather_facts
from ansible_collections.hyperion.kernel.plugins.module_utils.profile import wanted_sources
from ansible_collections.hyperion.kernel.plugins.module_utils.profile_files import load_resolved

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'bench')
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'bench')
sys.path.insert(0, BENCH)

import audit  # noqa: E402  pylint: disable=wrong-import-position,import-error
import checks  # noqa: E402  pylint: disable=wrong-import-position,import-error
import lab_bench  # noqa: E402  pylint: disable=wrong-import-position,import-error
import report  # noqa: E402  pylint: disable=wrong-import-position,import-error

# The two simulated hosts of the captured run (workbench/bench/fleet.py addresses).
HOSTS = {'sim01': '10.78.0.10', 'sim02': '10.78.0.11'}


def _run_command(argv):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope='module')
def items():
    return load_resolved(profile='hyperion-2.2.4', overlays=[], overrides={})['items']


def test_shell_checks_agree_with_the_core_on_this_machine(items):
    profile = {'name': 'hyperion-2.2.4', 'items': items}
    sysctls, modparams = wanted_sources(profile)
    results, _summary = evaluate(profile, gather_facts('/', _run_command, sysctls=sysctls, modparams=modparams))
    core = dict((result['id'], result['status']) for result in results)
    differences = []
    for item in items:
        proc = subprocess.run(['sh', '-c', checks.shell_check(item)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, check=False)
        status = checks.EXIT_STATUS.get(proc.returncode, 'rc%d' % proc.returncode)
        if status != core[item['id']]:
            differences.append((item['id'], status, core[item['id']], proc.stdout.strip(), proc.stderr.strip()[:200]))
    assert not differences


def test_every_match_form_and_skip_make_a_script():
    forms = [{'id': 'sysctl:vm.swappiness', 'match': 'range', 'min': 1, 'max': 10},
             {'id': 'thp:enabled', 'match': 'one_of', 'values': ['madvise', 'always']},
             {'id': 'uname:release', 'match': 'pattern', 'pattern': '^6\\.'},
             {'id': 'CONFIG_ZRAM', 'match': 'enabled', 'applies_if': ['zram_swap_active'], 'since': '5.0',
              'until': '99.0'},
             {'id': 'qdisc:lo:root', 'match': 'present'}]
    for item in forms:
        script = checks.shell_check(item)
        proc = subprocess.run(['sh', '-n', '-c', script], stderr=subprocess.PIPE, universal_newlines=True, check=False)
        assert proc.returncode == 0, (item['id'], proc.stderr)
    skipped = checks.shell_check({'id': 'CONFIG_X', 'match': 'exact', 'value': 'y', 'skip': 'not here'})
    assert subprocess.run(['sh', '-c', skipped], stdout=subprocess.DEVNULL, check=False).returncode == 3
    with pytest.raises(ValueError):
        checks.shell_check({'id': 'nosuch:thing', 'match': 'present'})


def test_python_names_are_identifiers_and_unique(items):
    names = [checks.python_name(i, item['id']) for i, item in enumerate(items, 1)]
    assert len(set(names)) == len(names)
    assert all(name.isidentifier() for name in names)
    assert checks.python_name(7, 'zram:zram0:recomp_algorithm') == 'test_0007_zram_zram0_recomp_algorithm'


def test_sample_spreads_over_the_profile(items):
    sample = audit.sample_items(items, 16)
    assert len(sample) == 16 and sample[0] is items[0]
    assert len(set(item['id'] for item in sample)) == 16
    assert len(set(item['id'].split(':')[0] for item in sample if ':' in item['id'])) >= 3
    assert audit.sample_items(items, 0) == items


def test_scaling_keeps_the_measured_figures():
    measured = {'wall_s': 10.0, 'ssh_sessions': 20, 'ssh_connections': 2, 'controller_cpu_s': 4.0}
    audit.scale_to_all_items(measured, 4, 16)
    assert measured['wall_s'] == 40.0 and measured['ssh_sessions'] == 80 and measured['ssh_connections'] == 2
    assert measured['measured'] == {'wall_s': 10.0, 'ssh_sessions': 20, 'controller_cpu_s': 4.0, 'items': 4}


def _captured_statuses(item_ids):
    with gzip.open(os.path.join(FIXTURES, 'check-yml-2-hosts.json.gz'), 'rt') as handle:
        check, check_stats = audit.statuses_from_json_callback(handle.read(), HOSTS, item_ids)
    with gzip.open(os.path.join(FIXTURES, 'commands-2-hosts-4-items.json.gz'), 'rt') as handle:
        commands, _stats = audit.statuses_from_json_callback(handle.read(), HOSTS, item_ids)
    return check, check_stats, commands


# The captures ran on the profile of 2026-11-22 (157 items); sample_items() picked these 4 from it.
CAPTURED_PROFILE_ITEMS = 157
CAPTURED_SAMPLE = ['uname:release', 'CONFIG_DMA_SHARED_BUFFER', 'tracer:osnoise', 'CONFIG_ZSWAP_COMPRESSOR_DEFAULT_ZSTD']


def _captured_sample(items):
    by_id = dict((item['id'], item) for item in items)
    return [by_id[item_id] for item_id in CAPTURED_SAMPLE]


def test_captured_variants_judged_the_sampled_items_alike(items):
    sample = _captured_sample(items)
    sample_ids = [item['id'] for item in sample]
    check, check_stats, commands = _captured_statuses([item['id'] for item in items])
    assert sorted(check) == sorted(HOSTS.values())
    assert all(len(found) == CAPTURED_PROFILE_ITEMS for found in check.values())
    assert set(check_stats) == set(HOSTS)
    names = dict((checks.python_name(i, item['id']), item['id']) for i, item in enumerate(sample, 1))
    testinfra = audit.statuses_from_junit(os.path.join(FIXTURES, 'testinfra-2-hosts-4-items.junit.xml'), names)
    for other in (commands, testinfra):
        agreement = audit.compare_statuses(check, other, sample_ids)
        assert agreement == {'checked': 8, 'agree': 8, 'differences': []}


def test_an_ssh_failure_under_testinfra_is_an_error_not_a_drift(items):
    # Captured when a worker closed the shared control masters while another still used them.
    sample = _captured_sample(items)
    names = dict((checks.python_name(i, item['id']), item['id']) for i, item in enumerate(sample, 1))
    found = audit.statuses_from_junit(os.path.join(FIXTURES, 'testinfra-2-hosts-4-items-ssh-error.junit.xml'), names)
    assert found['10.78.0.11']['CONFIG_ZSWAP_COMPRESSOR_DEFAULT_ZSTD'] == 'error'
    assert found['10.78.0.10']['CONFIG_ZSWAP_COMPRESSOR_DEFAULT_ZSTD'] == 'fail'


def _audit(check_wall, testinfra_wall, commands_wall, hosts=50, timed_out=False):
    def variant(wall):
        return {'wall_s': wall, 'ssh_sessions': 1, 'hosts_with_results': hosts, 'timed_out': False}
    result = {'hosts': 50, 'items': 157, 'forks': 10,
              'variants': {'check': variant(check_wall), 'testinfra': variant(testinfra_wall),
                           'commands': variant(commands_wall)}}
    result['variants']['commands']['timed_out'] = timed_out
    return result


def test_goals_need_both_ratios_and_every_host():
    verdicts = report.audit_verdicts(_audit(10.0, 60.0, 90.0))
    assert verdicts['testinfra']['goal_met'] and not verdicts['commands']['goal_met']
    assert verdicts['testinfra']['speedup'] == 6.0
    assert not report.audit_verdicts(_audit(10.0, 60.0, 200.0, timed_out=True))['commands']['goal_met']
    assert not report.audit_verdicts(_audit(10.0, 60.0, 200.0, hosts=49))['testinfra']['goal_met']
    table = report.audit_table(_audit(10.0, 60.0, 200.0))
    assert 'check/this (wall)' in table and table.count('yes') == 2


def test_reboot_window_on_a_real_serial_console():
    # A Debian trixie lab machine's console (GRUB, kernel, systemd with colour codes), each line
    # stamped with its number as if it had arrived one second after the one before.
    with gzip.open(os.path.join(FIXTURES, 'lab-trixie-boot-serial.log.gz'), 'rb') as handle:
        lines = handle.read().decode('utf-8', 'replace').split('\n')
    stamped = [(float(number), line) for number, line in enumerate(lines)]
    grub = next(n for n, line in stamped if 'GNU GRUB' in line)
    sshd = next(n for n, line in stamped if 'Started' in line and 'OpenBSD Secure Shell server' in line)
    assert lab_bench.reboot_windows(stamped) == [(grub, sshd)]
    assert lab_bench.console_text(lines[int(sshd)]).strip().endswith('Started ssh.service - OpenBSD Secure Shell server.')


def test_batches_from_a_real_json_callback_run():
    # check.yml has no serial: both hosts ran their tasks together, one batch.
    with gzip.open(os.path.join(FIXTURES, 'check-yml-2-hosts.json.gz'), 'rt') as handle:
        text = handle.read()
    data, _end = json.JSONDecoder().raw_decode(text[text.index('{'):])
    [(start, end, hosts)] = lab_bench.batches_from_callback(data)
    assert sorted(hosts) == ['sim01', 'sim02']
    assert 8.0 < end - start < 9.5  # 08:11:05.72 to 08:11:14.60 in the captured run


def test_batches_keep_only_the_plays_asked_for():
    # deploy.yml's preflight plays run every host at once; only its "Roll out to" plays are batches.
    with gzip.open(os.path.join(FIXTURES, 'check-yml-2-hosts.json.gz'), 'rt') as handle:
        data = lab_bench._json_document(handle.read())
    assert lab_bench.batches_from_callback(data, lab_bench.ROLLOUT_PLAYS_RE) == []
    names = [(play.get('play') or {}).get('name') for play in data['plays']]
    assert len(lab_bench.batches_from_callback(data, re.compile('^%s$' % re.escape(names[0])))) == 1
    assert lab_bench._json_document('no document') == {}


def test_where_a_batch_went_on_a_real_rollout_run():
    # deploy.yml on the demo lab, 2026-12-07 (before trial_boot and hyperion.kernel.reboot): cafe1's batch.
    with gzip.open(os.path.join(FIXTURES, 'deploy-rollout-plays-2026-12-07.json.gz'), 'rt') as handle:
        data = json.load(handle)
    [_canary, (start, end, hosts), _cafe2] = lab_bench.batches_from_callback(data, lab_bench.ROLLOUT_PLAYS_RE)
    assert hosts == ['cafe1']
    breakdown = lab_bench.batch_tasks(data, hosts, lab_bench.ROLLOUT_PLAYS_RE)
    names = [entry['task'] for entry in breakdown['tasks']]
    assert names[0] == 'hyperion.kernel.rollout : List the sessions on the host'
    assert 'hyperion.kernel.rollout : Reboot' in names and len(names) == 12
    total = sum(entry['s'] for entry in breakdown['tasks']) + breakdown['other_s']
    # The tasks cover the batch, less the gaps between them.
    assert end - start - 1.0 < total <= end - start + 0.1
    figures = dict(lab_bench.batch_figures(hosts, start, end, 36.3, {}), time=breakdown)
    text = report.rollout_table({'batches': [figures]})
    assert 'cafe1: hyperion.kernel.rollout : List the sessions on the host: 2.0 | ' in text
    assert text.endswith(' | shorter tasks: %s' % breakdown['other_s'])


def test_time_by_role_on_a_real_json_callback_run():
    # check.yml runs no role: its two tasks count for the playbook, the module call first.
    with gzip.open(os.path.join(FIXTURES, 'check-yml-2-hosts.json.gz'), 'rt') as handle:
        data = lab_bench._json_document(handle.read())
    breakdown = lab_bench.time_by_role(data, top=1)
    assert list(breakdown['by_role_s']) == ['check.yml']
    assert 8.0 < breakdown['by_role_s']['check.yml'] < 9.5
    [slowest] = breakdown['slowest_tasks']
    assert slowest['task'].startswith('Compare the running kernel') and slowest['s'] > 8.0
    assert 'task time s' in report.time_table(breakdown, 'title')


def test_link_traffic_adds_the_shutdown_record_of_the_boot_before():
    # lab1 received 403107 bytes on ens2 before the reboot (recorded at shutdown) and 9716 since.
    with open(os.path.join(FIXTURES, 'rx-probe-stdout.json')) as handle:
        probes = json.load(handle)
    boot_id, rx_bytes = lab_bench.rx_since_start(probes['lab1_after_reboot'])
    assert boot_id == 'dac2b529-9e85-4793-824f-be24b778836b'
    assert rx_bytes == 403107 + 9716
    assert lab_bench.rx_since_start(probes['cafe1_no_reboot'])[1] == 21976
    with pytest.raises(ValueError):
        lab_bench.rx_since_start('6164074b\r\nens2\r\nnow lo 0\r\n')


def test_link_probe_reads_this_machines_counters():
    # The probe's awk program on this machine's /proc/net/dev (wide counters lose the space after the colon).
    def rx_by_device():
        with open('/proc/net/dev') as handle:
            return dict((name.strip(), int(counters.split()[0]))
                        for name, counters in (line.split(':', 1) for line in handle.readlines()[2:]))

    before = rx_by_device()
    output = subprocess.run(['sh', '-c', lab_bench.RX_PROBE], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    after = rx_by_device()
    device = output.split('\n')[1].strip()
    if not device:
        pytest.skip('this machine has no default route')
    boot_id, rx_bytes = lab_bench.rx_since_start(output)
    with open('/proc/sys/kernel/random/boot_id') as handle:
        assert boot_id == handle.read().strip()
    assert before[device] <= rx_bytes <= after[device]


def test_the_ping_floor_counts_the_hosts_that_answered_pong():
    with open(os.path.join(FIXTURES, 'ansible-ping-o-3-answered-1-unreachable.txt')) as handle:
        text = handle.read()
    addresses = {'sim03': '10.78.0.13', 'sim07': '10.78.0.17', 'sim98': '127.0.0.1'}
    # sim10 answered but is not in this fleet; sim98 did not answer.
    assert audit.hosts_that_answered_ping(text, addresses) == {'sim03': {}, 'sim07': {}}


def test_the_ping_floor_goal_is_check_within_twice_a_ping():
    result = _audit(30.0, 600.0, 900.0)
    result['variants']['ping'] = {'wall_s': 16.0, 'hosts_with_results': 50, 'timed_out': False}
    verdicts = report.audit_verdicts(result)
    assert verdicts['ping']['goal_wall_ratio_at_most'] == 2.0 and verdicts['ping']['goal_met']
    result['variants']['ping']['wall_s'] = 14.0
    assert not report.audit_verdicts(result)['ping']['goal_met']
    # A ping that did not reach every host is no floor.
    result['variants']['ping'].update(wall_s=16.0, hosts_with_results=49)
    assert not report.audit_verdicts(result)['ping']['goal_met']
    assert 'ping' in report.audit_table(result)


def _captured_custom_stats():
    with open(os.path.join(FIXTURES, 'deploy-custom-stats-2026-12-07.json')) as handle:
        return json.load(handle)


def test_published_phases_and_the_staging_of_a_real_run():
    phases = lab_bench.published_phases(_captured_custom_stats())
    assert sorted(phases) == ['ro-a', 'ro-b', 'ro-canary']
    assert sorted(phases['ro-a']) == ['gate', 'promotion', 'staging', 'trial_boot']
    start, end = lab_bench.staging_span(phases)
    assert end - start == 780.0  # 00:34:02 to 00:47:02 on all three at once
    gate_start, gate_end = phases['ro-a']['gate']
    assert gate_end - gate_start == 9.0
    assert lab_bench.published_phases({}) == {} and lab_bench.staging_span({}) is None


def test_a_batch_is_measured_against_its_reboot_plus_its_gate():
    phases = lab_bench.published_phases(_captured_custom_stats())
    # ro-a and ro-b ran as one batch from 00:48:42 to 00:50:53 (131 s); their gates took 9 s each.
    start = lab_bench._iso_seconds('2026-12-07T00:48:42Z')
    figures = lab_bench.batch_figures(['ro-a', 'ro-b'], start, start + 131.0, 95.0, phases)
    assert figures == {'hosts': ['ro-a', 'ro-b'], 'wall_s': 131.0, 'reboot_s': 95.0, 'gate_s': 9.0,
                       'ratio': round(131.0 / 104.0, 3)}
    # Without a reboot on the serial console there is no ratio, rather than a ratio against the gate alone.
    assert lab_bench.batch_figures(['ro-a'], start, start + 131.0, 0.0, phases)['ratio'] is None
    table = report.rollout_table({'batches': [figures], 'evening_s': {'staging': 780.0, 'batches': 131.0,
                                                                      'total': 911.0, 'run': 1048.0}})
    assert 'ro-a ro-b' in table and '1.26' in table and 'staging 780.0 s + batches 131.0 s = 911.0 s' in table
