# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils import fleet_report as fr
from ansible_collections.hyperion.kernel.plugins.module_utils.check import evaluate, verdict
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import gather_facts
from ansible_collections.hyperion.kernel.plugins.module_utils.profile import wanted_sources
from ansible_collections.hyperion.kernel.plugins.module_utils.profile_files import load_resolved
from ansible_collections.hyperion.kernel.tests.unit.fixture_files import replay_capture

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures')
TRIXIE_VM = os.path.join(FIXTURES, 'vm', 'trixie-6.12.117+deb13-amd64')


def _check_result(overlays):
    """What hyperion.kernel.profile_check returns for Debian trixie's stock kernel under qemu."""
    profile = load_resolved(overlays=overlays)
    sysctls, modparams = wanted_sources(profile)
    facts = gather_facts(TRIXIE_VM, replay_capture(TRIXIE_VM), sysctls=sysctls, modparams=modparams)
    results, summary = evaluate(profile, facts)
    compliant, msg = verdict(summary)
    return dict(changed=False, compliant=compliant, msg=msg, items=results, summary=summary,
                kernel_release=facts['kernel']['release'], failed=not compliant,
                profile=dict(name=profile['name'], overlays=profile.get('overlays', [])))


@pytest.fixture(scope='module')
def stock_kernel_check():
    return _check_result(['gaming_cafe'])


def test_check_run_drift_on_stock_kernel(stock_kernel_check):
    rec = fr.new_host('cafe1')
    fr.record_result(rec, 'failed', 'Compare the running kernel', 'hyperion.kernel.profile_check', stock_kernel_check)
    assert fr.host_outcome(rec) == 'drift'
    ids = [i['id'] for i in rec['failing_items']]
    # Debian's stock kernel is not Hyperion: the real checker's failures are the report's items.
    expected = [r['id'] for r in stock_kernel_check['items'] if r['status'] == 'fail']
    assert expected and set(expected) <= set(ids)
    assert rec['kernel_release'] == '6.12.117+deb13-amd64'
    report = fr.build_report('check', {'cafe1': rec}, '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:05+00:00')
    row = report['hosts'][0]
    assert row['verdict'] == 'fail'
    assert row['reason'].startswith('required items drift: ')
    assert stock_kernel_check['summary']['failed_required'][0] in row['reason']
    # A check failure is a drift, not a task failure line.
    assert not [line for line in fr.host_details(row) if line.startswith('task ')]


def test_outcome_precedence_and_not_reached(stock_kernel_check):
    hosts = {name: fr.new_host(name) for name in ('lab1', 'cafe1', 'cafe2', 'cafe3')}
    fr.record_result(hosts['lab1'], 'ok', 'Note the outcome', 'ansible.builtin.set_fact',
                     {'ansible_facts': {'hyperion_report_outcome': 'fell_back',
                                        'hyperion_report_reason': 'came back on 6.12.117+deb13-amd64',
                                        'hyperion_report_release': '6.12.117-hyperion-noroot'}})
    fr.record_result(hosts['cafe1'], 'unreachable', 'Gathering', 'ansible.builtin.setup',
                     {'msg': 'Failed to connect to the host via ssh: Connection refused', 'unreachable': True})
    fr.record_result(hosts['cafe2'], 'unreachable', 'Reboot', 'ansible.builtin.reboot', {'msg': 'drop'})
    fr.record_result(hosts['cafe2'], 'ok', 'Check', 'hyperion.kernel.profile_check', _check_result(['lab']))
    report = fr.build_report('deploy', hosts, 'a', 'b', aborted=True)
    by_host = {r['host']: r for r in report['hosts']}
    assert by_host['lab1']['outcome'] == 'fell_back'
    assert by_host['lab1']['reason'] == 'came back on 6.12.117+deb13-amd64'
    assert by_host['lab1']['target_release'] == '6.12.117-hyperion-noroot'
    assert by_host['cafe1']['outcome'] == 'unreachable'
    assert 'Connection refused' in by_host['cafe1']['reason']
    # An answer after a drop: the host is back; the stock kernel drifts under the lab overlay too.
    assert by_host['cafe2']['outcome'] == 'drift'
    assert by_host['cafe3']['outcome'] == 'not_reached'
    assert by_host['cafe3']['verdict'] == 'skip'
    assert report['hosts'][0]['host'] == 'lab1'  # worst first
    assert report['ok'] is False
    assert report['totals'] == {'hosts': 4, 'pass': 0, 'fail': 3, 'skip': 1}
    lines = fr.summary_lines(report)
    assert 'RUN STOPPED EARLY' in lines[0]
    assert len(lines) == 5


def test_compliant_host_after_overrides():
    result = _check_result(['gaming_cafe'])
    # Skip every failing item through the same overrides mechanism inventories use.
    overrides = dict((r['id'], {'skip': 'test'}) for r in result['items'] if r['status'] in ('fail', 'unknown'))
    profile = load_resolved(overlays=['gaming_cafe'], overrides=overrides)
    sysctls, modparams = wanted_sources(profile)
    facts = gather_facts(TRIXIE_VM, replay_capture(TRIXIE_VM), sysctls=sysctls, modparams=modparams)
    results, summary = evaluate(profile, facts)
    compliant, _msg = verdict(summary)
    rec = fr.new_host('cafe1')
    fr.record_result(rec, 'ok', 'Compare', 'hyperion.kernel.profile_check',
                     dict(compliant=compliant, items=results, summary=summary, kernel_release='x'))
    assert fr.host_outcome(rec) == 'compliant'
    report = fr.build_report('check', {'cafe1': rec}, 'a', 'b')
    assert report['ok'] is True
    assert fr.summary_lines(report) == ['check: 1 host - 1 compliant']


def test_failed_task_and_skipped_only_host():
    hosts = {'a': fr.new_host('a'), 'b': fr.new_host('b')}
    fr.record_result(hosts['a'], 'failed', 'Install the kernel package', 'ansible.builtin.apt',
                     {'msg': 'No space left\n on device ' + 'x' * 1000})
    fr.record_result(hosts['b'], 'skipped', 'Only on canaries', 'ansible.builtin.debug', {})
    report = fr.build_report('deploy', hosts, 'a', 'b')
    by_host = {r['host']: r for r in report['hosts']}
    assert by_host['a']['outcome'] == 'failed'
    assert by_host['a']['reason'].startswith('Install the kernel package: No space left on device x')
    assert len(by_host['a']['failures'][0]['msg']) == 600
    assert by_host['b']['outcome'] == 'ok'


def test_renderers_are_well_formed(stock_kernel_check):
    hosts = {'cafe1': fr.new_host('cafe1'), 'x<&>"|': fr.new_host('x<&>"|')}
    fr.record_result(hosts['cafe1'], 'failed', 'Check', 'hyperion.kernel.profile_check', stock_kernel_check)
    fr.record_result(hosts['x<&>"|'], 'ok', 'Defer', 'ansible.builtin.set_fact',
                     {'ansible_facts': {'hyperion_report_outcome': 'deferred',
                                        'hyperion_report_reason': 'active session: seat0 user "gamer" <tty1>'}})
    report = fr.build_report('check', hosts, 's', 'f')
    data = json.loads(fr.to_json(report))
    assert data['schema_version'] == 1
    assert data['hosts'][0]['failing_items']
    root = ET.fromstring(fr.to_junit(report))
    suite = root.find('testsuite')
    assert suite.get('tests') == '2' and suite.get('failures') == '1' and suite.get('skipped') == '1'
    cases = {c.get('name'): c for c in suite.findall('testcase')}
    failure = cases['cafe1'].find('failure')
    assert failure.get('type') == 'drift'
    assert stock_kernel_check['summary']['failed_required'][0] in failure.text
    assert 'gamer' in cases['x<&>"|'].find('skipped').get('message')
    md = fr.to_markdown(report)
    table = [line for line in md.splitlines() if line.startswith('| ')]
    assert len(table) == 3  # header + 2 hosts
    assert 'x<&>"\\|' in md
    html = fr.to_html(report)
    assert '<td>x&lt;&amp;&gt;&quot;|</td>' in html
    assert html.count('<tr class=') == 2


def test_report_only_check_judged_by_assert(stock_kernel_check):
    """check.yml runs the module with fail_on: never and judges with an assertion."""
    never = dict(stock_kernel_check, compliant=True, failed=False)
    rec = fr.new_host('lab1')
    fr.record_result(rec, 'ok', 'Compare', 'hyperion.kernel.profile_check', never)
    fr.record_result(rec, 'failed', 'Judge the host', 'ansible.builtin.assert',
                     {'msg': 'drifts', 'evaluated_to': False})
    assert fr.host_outcome(rec) == 'drift'
    row = fr.build_report('check', {'lab1': rec}, 'a', 'b')['hosts'][0]
    assert row['compliant'] is False
    assert row['reason'].startswith('required items drift:')


def test_stopped_run_hosts_past_the_first_checks_only_are_not_reached():
    hosts = {'c1': fr.new_host('c1'), 'c2': fr.new_host('c2')}
    for rec in hosts.values():
        fr.record_result(rec, 'ok', 'Check the rollout variables', 'ansible.builtin.assert', {'changed': False})
    fr.record_result(hosts['c1'], 'ok', 'Report', 'ansible.builtin.set_fact',
                     {'ansible_facts': {'rollout_report_outcome': 'preflight_failed', 'rollout_report_reason': 'no GRUB'}})
    fr.record_result(hosts['c1'], 'failed', 'Stop at a failed preflight', 'ansible.builtin.fail', {'msg': 'no GRUB'})
    report = fr.build_report('deploy', hosts, 'a', 'b', aborted=True)
    by_host = {r['host']: r for r in report['hosts']}
    assert by_host['c1']['outcome'] == 'preflight_failed'
    assert fr.host_details(by_host['c1']) == ['no GRUB']
    assert by_host['c2']['outcome'] == 'not_reached'
    # The same host in a run that went to the end is simply ok.
    assert fr.build_report('deploy', hosts, 'a', 'b')['hosts'][1]['outcome'] == 'ok'


def test_changed_tasks_are_named_once_each():
    """A re-run that should change nothing says which tasks did: the report names them."""
    rec = fr.new_host('ro-a')
    fr.record_result(rec, 'ok', 'Read the running release', 'ansible.builtin.command', {'changed': False})
    # A loop's items are folded one by one (two sysctls set by one task).
    for name in ('net.ipv4.tcp_congestion_control', 'net.core.default_qdisc'):
        fr.record_result(rec, 'changed', 'Set congestion control and default qdisc in sysctl.d and live',
                         'ansible.posix.sysctl', {'changed': True, 'item': {'key': name}})
    fr.record_result(rec, 'changed', 'Run the recompression timer', 'ansible.builtin.systemd_service',
                     {'changed': True, 'state': 'started'})
    fr.record_result(rec, 'skipped', 'Reboot', 'ansible.builtin.reboot', {'changed': False})
    row = fr.build_report('deploy', {'ro-a': rec}, 'a', 'b')['hosts'][0]
    assert row['changed'] == 3
    assert row['changed_tasks'] == ['Set congestion control and default qdisc in sysctl.d and live',
                                    'Run the recompression timer']
    assert '| 3: Set congestion control and default qdisc in sysctl.d and live; Run the recompression timer |' \
        in fr.to_markdown(fr.build_report('deploy', {'ro-a': rec}, 'a', 'b'))
    html = fr.to_html(fr.build_report('deploy', {'ro-a': rec}, 'a', 'b'))
    assert '<summary>3</summary><ul><li>Set congestion control' in html
    # A host without changes shows 0 and lists nothing.
    quiet = fr.new_host('ro-b')
    fr.record_result(quiet, 'ok', 'Read the running release', 'ansible.builtin.command', {'changed': False})
    quiet_row = fr.build_report('deploy', {'ro-b': quiet}, 'a', 'b')['hosts'][0]
    assert quiet_row['changed'] == 0 and quiet_row['changed_tasks'] == []
