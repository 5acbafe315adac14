# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report callback through the real `ansible-playbook` command: check.yml on this machine,
and a serial play that max_fail_percentage stops."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.hyperion.kernel.tests.unit.collection_paths import (
    ROOT, ansible_command, ansible_env, collections_path, needs_repository)

PLAYBOOK = ansible_command('ansible-playbook')

pytestmark = pytest.mark.skipif(not os.path.isdir(collections_path()) or not os.path.exists(PLAYBOOK),
                                reason='needs `make setup` (venv with ansible and the collection link)')


def _run(tmp_path, playbook, inventory, *extra):
    inv = tmp_path / 'inventory.ini'
    inv.write_text(inventory)
    env = ansible_env(tmp_path, ANSIBLE_CALLBACKS_ENABLED='hyperion.kernel.hyperion_report',
                      ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_RETRY_FILES_ENABLED='0')
    proc = subprocess.run([PLAYBOOK, '-i', str(inv), playbook] + list(extra), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, env=env, cwd=str(tmp_path), check=False)
    assert 'Traceback' not in proc.stdout + proc.stderr
    latest = tmp_path / 'reports' / 'latest'
    with open(str(latest / 'report.json')) as handle:
        report = json.load(handle)
    return proc, report, latest


def test_check_yml_reports_drift_and_unreachable(tmp_path):
    inventory = ('[hyperion_fleet]\n'
                 'controller ansible_connection=local ansible_python_interpreter=%s\n'
                 'gone ansible_host=127.0.0.1 ansible_port=1 ansible_user=nobody\n' % sys.executable)
    proc, report, latest = _run(tmp_path, os.path.join(ROOT, 'playbooks', 'check.yml'), inventory,
                                '-e', json.dumps({'hyperion_profile_overlays': ['gaming_cafe']}))
    assert proc.returncode != 0
    hosts = dict((row['host'], row) for row in report['hosts'])
    # This machine does not run Hyperion 2.2.4: the release item fails whatever else it has.
    assert hosts['controller']['outcome'] == 'drift'
    assert 'uname:release' in [item['id'] for item in hosts['controller']['failing_items']]
    assert hosts['controller']['kernel_release'] == os.uname()[2]
    assert hosts['controller']['profile'] == {'name': 'hyperion-2.2.4', 'overlays': ['gaming_cafe']}
    assert hosts['gone']['outcome'] == 'unreachable'
    assert report['playbook'] == 'check' and not report['ok']
    # The summary at the end of the output and the other formats.
    assert 'HYPERION REPORT' in proc.stdout and 'check: 2 hosts' in proc.stdout
    assert 'Report: %s' % os.path.realpath(str(latest)).rsplit('/', 1)[0] in proc.stdout
    suite = ET.parse(str(latest / 'junit.xml')).getroot().find('testsuite')
    assert suite.get('tests') == '2' and suite.get('failures') == '2'
    assert '| controller | drift |' in (latest / 'report.md').read_text()
    assert '<td>controller</td>' in (latest / 'report.html').read_text()


def test_run_stopped_by_max_fail_percentage(tmp_path):
    playbook = tmp_path / 'batches.yml'
    playbook.write_text('''---
- name: Batches
  hosts: fleet
  gather_facts: false
  serial: 1
  max_fail_percentage: 0
  tasks:
    - name: Fail on the first host
      ansible.builtin.fail:
        msg: kernel did not come back
      when: inventory_hostname == 'one'
    - name: Report the others
      ansible.builtin.set_stats:
        data: {hyperion_report: {outcome: updated}}
        per_host: true
- name: Never reached
  hosts: fleet
  gather_facts: false
  tasks:
    - name: Nothing
      ansible.builtin.meta: noop
''')
    inventory = '[fleet]\n' + ''.join('%s ansible_connection=local ansible_python_interpreter=%s\n' % (name, sys.executable)
                                      for name in ('one', 'two', 'three'))
    proc, report, _latest = _run(tmp_path, str(playbook), inventory)
    assert proc.returncode != 0
    hosts = dict((row['host'], row['outcome']) for row in report['hosts'])
    assert hosts == {'one': 'failed', 'two': 'not_reached', 'three': 'not_reached'}
    assert report['aborted'] and 'RUN STOPPED EARLY' in proc.stdout
    assert report['hosts'][0]['reason'] == 'Fail on the first host: kernel did not come back'


def test_the_published_outcome_is_the_one_contract(tmp_path):
    """set_stats per host under hyperion_report: merged key by key (set_stats' default), replaced with
    aggregate: false, kept for a host that fails after it; run-wide stats and facts speak for no host."""
    playbook = tmp_path / 'publish.yml'
    playbook.write_text('''---
- name: Publish outcomes
  hosts: fleet
  gather_facts: false
  tasks:
    - name: Publish the release first
      ansible.builtin.set_stats:
        data: {hyperion_report: {release: "7.0-{{ inventory_hostname }}"}}
        per_host: true
    - name: Publish the outcome of one
      ansible.builtin.set_stats:
        data: {hyperion_report: {outcome: fell_back, reason: came back on 6.12}}
        per_host: true
      when: inventory_hostname == 'one'
    - name: Fail one after it published
      ansible.builtin.fail:
        msg: the kernel did not come back
      when: inventory_hostname == 'one'
    - name: Replace the report of two
      ansible.builtin.set_stats:
        data: {hyperion_report: {outcome: updated, reason: runs 7.0}}
        per_host: true
        aggregate: false
      when: inventory_hostname == 'two'
    - name: Publish for the run, not for a host
      ansible.builtin.set_stats:
        data: {hyperion_report: {outcome: deferred, reason: run-wide}}
        per_host: false
    - name: Set facts of the names earlier versions read
      ansible.builtin.set_fact:
        hyperion_report_outcome: deferred
        rollout_report_outcome: deferred
        hyperion_report: {outcome: deferred}
''')
    inventory = '[fleet]\n' + ''.join('%s ansible_connection=local ansible_python_interpreter=%s\n' % (name, sys.executable)
                                      for name in ('one', 'two', 'three'))
    proc, report, _latest = _run(tmp_path, str(playbook), inventory)
    assert proc.returncode != 0
    rows = dict((row['host'], row) for row in report['hosts'])
    assert (rows['one']['outcome'], rows['one']['reason'], rows['one']['target_release']) == (
        'fell_back', 'came back on 6.12', '7.0-one')
    assert (rows['two']['outcome'], rows['two']['reason'], rows['two']['target_release']) == ('updated', 'runs 7.0', None)
    assert (rows['three']['outcome'], rows['three']['target_release']) == ('ok', '7.0-three')
    assert not report['aborted']


@needs_repository
def test_the_checkout_enables_the_report_and_ad_hoc_commands_write_none(tmp_path):
    # Without ANSIBLE_CALLBACKS_ENABLED: the checkout's ansible.cfg alone enables the callback, so a
    # plain `ansible-playbook check.yml` writes the report; an ad-hoc command writes none.
    inv = tmp_path / 'inventory.ini'
    inv.write_text('[hyperion_fleet]\ncontroller ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
    env = dict((key, value) for key, value in os.environ.items() if key != 'ANSIBLE_CALLBACKS_ENABLED')
    env.update(ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_COLLECTIONS_PATH=collections_path(),
               HYPERION_REPORT_DIR=str(tmp_path / 'reports'), ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='0')
    adhoc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible'), '-i', str(inv), 'hyperion_fleet',
                            '-m', 'ansible.builtin.ping'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, env=env, cwd=str(tmp_path), check=False)
    assert adhoc.returncode == 0, adhoc.stdout
    assert not (tmp_path / 'reports').exists()
    proc = subprocess.run([PLAYBOOK, '-i', str(inv), os.path.join(ROOT, 'check.yml')], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, env=env, cwd=str(tmp_path), check=False)
    assert 'HYPERION REPORT' in proc.stdout, proc.stdout
    with open(str(tmp_path / 'reports' / 'latest' / 'report.json')) as handle:
        assert json.load(handle)['playbook'] == 'check'
