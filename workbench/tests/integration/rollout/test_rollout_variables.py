# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout role's variable checks (its entry point `main`, which deploy.yml and rollback.yml run
in their preflight play before any host changes), through the real ansible-playbook on this machine.

One run covers every case: each case is a host of a local inventory with its own variables, so the
JSON callback gives one result per case. Values that `-e key=value` would give as strings are given
as strings too."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
BIN = os.path.dirname(sys.executable)

PLAYBOOK = """\
- name: Check the rollout variables as deploy.yml's preflight does
  hosts: all
  connection: local
  gather_facts: false
  tasks:
    - name: Check them
      ansible.builtin.import_role:
        name: hyperion.kernel.rollout
"""

# case name -> (variables, None for accepted or a fragment of the refusal)
CASES = {
    'defaults': ({}, None),
    'everything_set': ({'rollout_maintenance_window': '22:00-06:00', 'rollout_wol_mac': '52:54:00:12:34:56',
                        'rollout_max_fail_percentage': 20, 'rollout_serial': [1, '25%', 10], 'rollout_panic_timeout': 5,
                        'rollout_converged_max_age_days': 0, 'rollout_cmdline_dropin': '95-site.cfg'}, None),
    'strings_as_from_the_command_line': ({'rollout_max_fail_percentage': '20', 'rollout_panic_timeout': '5',
                                          'rollout_converged_max_age_days': '7', 'rollout_serial': '2',
                                          'rollout_trial_deadline': '300'}, None),
    'kgdbwait_allowed_on_a_bench': ({'boot_params_kgdbwait': True, 'rollout_allow_kgdbwait': True}, None),
    'site_gate_checks': ({'rollout_gate_checks': [{'unit_active': 'gdm.service'}, {'no_failed_units': True},
                                                  {'tcp': 'license.lab.example:27000', 'timeout': 3},
                                                  {'command': ['/usr/local/sbin/seat-check']}]}, None),
    'window_hour_25': ({'rollout_maintenance_window': '25:00-06:00'},
                       'rollout_maintenance_window must be HH:MM-HH:MM, got "25:00-06:00"'),
    'window_one_end': ({'rollout_maintenance_window': '22:00'}, 'rollout_maintenance_window must be HH:MM-HH:MM'),
    'mac_five_pairs': ({'rollout_wol_mac': '52:54:00:12:34'}, 'rollout_wol_mac must be six hex pairs'),
    # A pattern ending in $ took these: the value with its newline went on to the magic packet and the report.
    'mac_trailing_newline': ({'rollout_wol_mac': '52:54:00:12:34:56\n'}, 'rollout_wol_mac must be six hex pairs'),
    'window_trailing_newline': ({'rollout_maintenance_window': '22:00-06:00\n'}, 'rollout_maintenance_window must be HH:MM-HH:MM'),
    # kernel/panic.c waits panic_timeout * 1000 ms in an int: one second more overflows it.
    'panic_timeout_overflow': ({'rollout_panic_timeout': 2147484}, 'rollout_panic_timeout must be from 1 to 2147483 seconds'),
    'fail_percentage_150': ({'rollout_max_fail_percentage': 150}, 'rollout_max_fail_percentage must be 0 to 100, got 150'),
    'fail_percentage_string_150': ({'rollout_max_fail_percentage': '150'}, 'rollout_max_fail_percentage must be 0 to 100, got 150'),
    'panic_timeout_0': ({'rollout_panic_timeout': 0}, 'rollout_panic_timeout must be from 1 to 2147483 seconds'),
    'panic_timeout_string_0': ({'rollout_panic_timeout': '0'}, 'rollout_panic_timeout must be from 1 to 2147483 seconds'),
    'trial_deadline_too_short': ({'rollout_trial_deadline': 60}, 'rollout_trial_deadline must be from 120 to 86400 seconds'),
    'trial_deadline_string_too_long': ({'rollout_trial_deadline': '90000'},
                                       'rollout_trial_deadline must be from 120 to 86400 seconds'),
    # The controller would give the host up while its own deadline still runs.
    'trial_deadline_past_the_reboot_wait': ({'rollout_trial_deadline': 900, 'rollout_reboot_timeout': 900},
                                            'rollout_trial_deadline (900) must be below rollout_reboot_timeout (900)'),
    'gate_check_without_kind': ({'rollout_gate_checks': [{'name': 'license'}]},
                                'rollout_gate_checks[1] (license) must have exactly one of unit_active'),
    'gate_check_unit_without_type': ({'rollout_gate_checks': [{'unit_active': 'gdm'}]},
                                     'unit_active must be a unit name with its type'),
    # A kernel that halts at boot for a debugger strands an unattended seat.
    'kgdbwait_unattended': ({'boot_params_kgdbwait': True},
                            'boot_params_kgdbwait is set: kgdbwait halts every boot of the new kernel'),
    'kgdbwait_string_from_the_command_line': ({'boot_params_kgdbwait': 'true'}, 'boot_params_kgdbwait is set'),
    'batch_minutes_past_a_day': ({'rollout_batch_minutes': 1441}, 'rollout_batch_minutes must be from 0 to 1440, got 1441'),
    'max_age_negative': ({'rollout_converged_max_age_days': -1}, 'rollout_converged_max_age_days must be 0 (no limit) or more, got -1'),
    'dropin_path': ({'rollout_cmdline_dropin': '../grub.cfg'}, 'rollout_cmdline_dropin must be a file name ending in .cfg'),
    'serial_0': ({'rollout_serial': 0}, 'rollout_serial must be a count, a percentage or a list of them'),
    'serial_150_percent': ({'rollout_serial': [1, '150%']}, 'rollout_serial must be a count, a percentage'),
    'serial_empty_list': ({'rollout_serial': []}, 'rollout_serial must be a count, a percentage'),
    'two_problems_at_once': ({'rollout_panic_timeout': 0, 'rollout_wol_mac': 'nope'},
                             'rollout_wol_mac must be six hex pairs (52:54:00:12:34:56), got "nope"; rollout_panic_timeout must be from 1 to 2147483 seconds'),
    # Types are the argument spec's: refused before the forms are looked at.
    'panic_timeout_word': ({'rollout_panic_timeout': 'soon'}, 'rollout_panic_timeout'),
    'architectures_not_a_list': ({'rollout_architectures': {'x86_64': True}}, 'rollout_architectures'),
}


@pytest.fixture(scope='module')
def results(tmp_path_factory):
    """Each case's task result (of the last task that ran for it), from one real run."""
    work = tmp_path_factory.mktemp('rollout-variables')
    (work / 'play.yml').write_text(PLAYBOOK)
    hosts = {name: dict(variables, ansible_python_interpreter=sys.executable) for name, (variables, _refusal) in CASES.items()}
    (work / 'hosts.yml').write_text(yaml.safe_dump({'all': {'hosts': hosts}}))
    # The checkout's ansible.cfg also enables the report callback: its report goes to the work
    # directory, and its summary follows the JSON document on stdout.
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'), ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json',
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.build', 'collections'), HYPERION_REPORT_DIR=str(work / 'reports'))
    run = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', str(work / 'hosts.yml'), str(work / 'play.yml')],
                         cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                         timeout=600, check=False)
    try:
        output = json.JSONDecoder().raw_decode(run.stdout[run.stdout.index('{'):])[0]
    except ValueError:
        pytest.fail('ansible-playbook printed no JSON (rc %d): %s %s' % (run.returncode, run.stdout[-2000:], run.stderr[-2000:]))
    by_host = {}
    for task in output['plays'][0]['tasks']:
        for host, result in task['hosts'].items():
            by_host[host] = result
    return by_host


@pytest.mark.parametrize('case', sorted(CASES))
def test_variables_are_accepted_or_refused_with_a_clear_message(results, case):
    refusal = CASES[case][1]
    result = results[case]
    message = result.get('msg', '')
    if refusal is None:
        assert not result.get('failed'), message
    else:
        assert result.get('failed'), 'case %s was accepted' % case
        assert refusal in message
        assert 'Traceback' not in message and 'object of type' not in message and 'not supported between' not in message
