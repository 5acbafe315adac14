# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""convergence_record and convergence_info: a record written, then compared with a host that moved or not.

The links answer from the trixie capture (tests/unit/fixtures/vm/), whose hyp-cake0 has CAKE 100Mbit;
the boot entries and the running release are set per test (the boot entry core has its own tests).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperion.kernel.plugins.modules import convergence_info, convergence_record
from ansible_collections.hyperion.kernel.tests.unit.module_runs import run_module

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures')
TRIXIE = glob.glob(os.path.join(FIXTURES, 'vm', 'trixie-*', 'cmd'))[0]
FINGERPRINT = '3f' * 32
RELEASE = '6.12.118-hyperion'
CAKE = [{'parent': 'root', 'handle': '1:', 'kind': 'cake',
         'options': {'bandwidth': '100Mbit', 'diffserv': 'diffserv4', 'nat': True}}]


@pytest.fixture
def host(monkeypatch, tmp_path):
    """A host running RELEASE as the default, with the captured links and one managed file under tmp_path."""
    with open(os.path.join(TRIXIE, 'tc-j-qdisc-show.json')) as handle:
        qdiscs = json.load(handle)
    with open(os.path.join(TRIXIE, 'ip-j-d-link-show.json')) as handle:
        links = json.load(handle)
    state = {'running': RELEASE, 'default': RELEASE, 'next': RELEASE, 'commands': []}

    def run_command(self, argv, *args, **kwargs):
        state['commands'].append(argv)
        if argv[1:3] == ['-j', '-d']:
            found = [link for link in links if link['ifname'] == argv[-1]]
            return (0, json.dumps(found), '') if found else (1, '', 'Device "%s" does not exist.' % argv[-1])
        if argv[1:3] == ['-j', 'qdisc']:
            return 0, json.dumps([q for q in qdiscs if q['dev'] == argv[-1]]), ''
        raise AssertionError('unexpected command %s' % argv)
    monkeypatch.setattr(AnsibleModule, 'run_command', run_command)
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', lambda self, name, *a, **k: '/sbin/' + name)
    monkeypatch.setattr(convergence_info, '_running_release', lambda: state['running'])
    monkeypatch.setattr(convergence_info, '_boot_releases', lambda run: (state['default'], state['next'], None))
    (tmp_path / 'etc').mkdir()
    (tmp_path / 'etc' / '90-hyperion-tuning.conf').write_text('vm.swappiness = 180\n')
    state['record'] = str(tmp_path / 'var' / 'converged.json')
    state['watch'] = [str(tmp_path / 'etc' / '*hyperion*.conf')]
    state['dir'] = tmp_path / 'etc'
    return state


def _record(host, capsys, **extra):
    args = dict(path=host['record'], fingerprint=FINGERPRINT, release=RELEASE, watch=host['watch'],
                qdisc_plans=[{'devices': ['hyp-cake0'], 'selector': 'hyp-cake0', 'state': 'present', 'qdiscs': CAKE}])
    args.update(extra)
    return run_module(convergence_record, args, capsys)


def _info(host, capsys, fingerprint=FINGERPRINT, **extra):
    return run_module(convergence_info, dict({'path': host['record'], 'fingerprint': fingerprint}, **extra), capsys)


def test_no_record_means_the_full_pass(host, capsys):
    code, result = _info(host, capsys)
    assert code == 0 and result['converged'] is False and result['changed'] is False
    assert result['reasons'] == ['no record of a full pass (%s)' % host['record']]


def test_check_mode_writes_nothing_then_the_record_is_written_once(host, capsys):
    code, result = _record(host, capsys, _ansible_check_mode=True, _ansible_diff=True)
    assert code == 0 and result['changed'] is True and not os.path.exists(host['record'])
    assert json.loads(result['diff']['after'])['release'] == RELEASE and result['diff']['before'] == ''
    code, result = _record(host, capsys)
    assert code == 0 and result['changed'] is True
    written = json.loads(open(host['record']).read())
    assert written['files'] == result['record']['files'] and len(written['files']) == 1
    assert written['qdisc_plans'] == {'hyp-cake0': {'state': 'present', 'qdiscs': CAKE}}
    # The same pass again keeps the record, time of recording included.
    code, again = _record(host, capsys)
    assert code == 0 and again['changed'] is False and again['record']['recorded_at'] == written['recorded_at']


def test_a_host_as_recorded_is_converged(host, capsys):
    _record(host, capsys)
    code, result = _info(host, capsys)
    assert code == 0 and result['converged'] is True and result['reasons'] == []
    assert result['default_release'] == RELEASE and result['record']['release'] == RELEASE
    # The live tree of the planned link was read, and nothing but reads ran.
    assert [argv[1:3] for argv in host['commands']] == [['-j', '-d'], ['-j', 'qdisc']]


def test_every_kind_of_drift_is_named(host, capsys):
    _record(host, capsys, qdisc_plans=[{'device': 'hyp-cake0', 'qdiscs': [
        dict(CAKE[0], options=dict(CAKE[0]['options'], bandwidth='200Mbit'))]}])
    (host['dir'] / '90-hyperion-tuning.conf').write_text('vm.swappiness = 60\n')
    (host['dir'] / '91-hyperion-extra.conf').write_text('\n')
    host.update(running='6.12.48+deb13-amd64', default='6.12.48+deb13-amd64')
    code, result = _info(host, capsys, fingerprint='00' * 32)
    assert code == 0 and result['converged'] is False
    reasons = result['reasons']
    assert reasons[0].startswith('the inputs or the collection changed since the full pass of ')
    assert reasons[1:4] == ['runs 6.12.48+deb13-amd64, the full pass left %s' % RELEASE,
                            'the default boot entry is 6.12.48+deb13-amd64, the full pass left %s' % RELEASE,
                            'the next boot is armed for %s' % RELEASE]
    assert reasons[4].endswith('90-hyperion-tuning.conf changed') and reasons[5].endswith('91-hyperion-extra.conf is new')
    assert reasons[6].startswith('the qdiscs of hyp-cake0 differ from the plan: ') and 'bandwidth' in reasons[6]


def test_a_vanished_link_is_a_reason_not_a_failure(host, capsys):
    _record(host, capsys, qdisc_plans=[{'device': 'hyp-gone0', 'qdiscs': CAKE}])
    code, result = _info(host, capsys)
    assert code == 0 and result['converged'] is False
    assert result['reasons'] == ['the qdisc plan of hyp-gone0 cannot be checked: device hyp-gone0 does not exist']


def test_a_broken_record_means_the_full_pass(host, capsys):
    os.makedirs(os.path.dirname(host['record']))
    with open(host['record'], 'w') as handle:
        handle.write('{"schema": 1, "fing')
    code, result = _info(host, capsys)
    assert code == 0 and result['converged'] is False and 'is not JSON' in result['reasons'][0]


def test_absent_removes_the_record_once(host, capsys):
    _record(host, capsys)
    code, result = _record(host, capsys, state='absent', _ansible_check_mode=True)
    assert code == 0 and result['changed'] is True and os.path.exists(host['record'])
    code, result = _record(host, capsys, state='absent')
    assert code == 0 and result['changed'] is True and not os.path.exists(host['record'])
    code, result = _record(host, capsys, state='absent')
    assert code == 0 and result['changed'] is False


def test_an_outlived_record_brings_the_full_pass_which_renews_it(host, capsys):
    _record(host, capsys)
    with open(host['record']) as handle:
        record = json.load(handle)
    record['recorded_at'] = '2026-11-01T00:00:00Z'
    with open(host['record'], 'w') as handle:
        json.dump(record, handle)
    code, result = _info(host, capsys)
    assert code == 0 and result['converged'] is True
    code, result = _info(host, capsys, max_age_days=7)
    assert code == 0 and result['converged'] is False
    assert result['reasons'] == ['the full pass of 2026-11-01T00:00:00Z is older than 7 days']
    # Without a maximum age the same pass keeps the old record; with it, the pass renews it once.
    code, result = _record(host, capsys)
    assert code == 0 and result['changed'] is False
    code, result = _record(host, capsys, max_age_days=7, _ansible_check_mode=True)
    assert code == 0 and result['changed'] is True
    assert json.load(open(host['record']))['recorded_at'] == '2026-11-01T00:00:00Z'
    code, result = _record(host, capsys, max_age_days=7)
    assert code == 0 and result['changed'] is True and result['record']['recorded_at'] != '2026-11-01T00:00:00Z'
    code, result = _record(host, capsys, max_age_days=7)
    assert code == 0 and result['changed'] is False
    code, result = _info(host, capsys, max_age_days=7)
    assert code == 0 and result['converged'] is True


@pytest.mark.parametrize('args, message', [
    ({'fingerprint': 'not-hex'}, '64 lower-case hex digits'),
    ({'watch': ['etc/*.conf']}, 'must be an absolute path'),
    ({'release': ''}, 'release must be a kernel release'),
    ({'release': '../6.12'}, 'release must be a kernel release'),
    ({'qdisc_plans': [{'device': 'hyp-cake0', 'qdiscs': []}]}, 'state=present needs qdiscs'),
    ({'max_age_days': -1}, 'whole number of days'),
])
def test_bad_input_fails_cleanly_and_writes_nothing(host, capsys, args, message):
    code, result = _record(host, capsys, **args)
    assert code == 1 and message in result['msg'] and not os.path.exists(host['record'])


def test_info_refuses_a_malformed_fingerprint(host, capsys):
    code, result = _info(host, capsys, fingerprint='xyz')
    assert code == 1 and '64 lower-case hex digits' in result['msg']


def test_info_refuses_a_negative_maximum_age(host, capsys):
    code, result = _info(host, capsys, max_age_days=-3)
    assert code == 1 and 'whole number of days' in result['msg']


def test_a_staging_record_stands_until_the_staged_kernel_boots(host, capsys):
    old = '6.12.48+deb13-amd64'
    host.update(running=old, default=old, next=old)
    code, result = _record(host, capsys, staged_on=old)
    assert code == 0 and result['changed'] and result['record']['staged_on'] == old
    code, result = _info(host, capsys)
    assert code == 0 and result['converged'] is True
    assert result['msg'].startswith('staged: %s waits for its trial boot, %s runs as the default' % (RELEASE, old))
    # The plans come back as the record module takes them: a record of them is the same record.
    assert result['qdisc_plans'] == [{'device': 'hyp-cake0', 'state': 'present', 'qdiscs': CAKE}]
    code, again = _record(host, capsys, staged_on=old, qdisc_plans=result['qdisc_plans'])
    assert code == 0 and again['changed'] is False
    # Armed for the trial boot, then running it: no longer as the staging left it.
    host.update(next=RELEASE)
    assert _info(host, capsys)[1]['reasons'] == ['the next boot is armed for %s' % RELEASE]
    host.update(running=RELEASE, default=RELEASE)
    assert _info(host, capsys)[1]['reasons'] == ['runs %s, the staging left %s' % (RELEASE, old),
                                                 'the default boot entry is %s, the staging left %s' % (RELEASE, old)]


def test_a_staging_record_of_the_running_release_is_refused(host, capsys):
    code, result = _record(host, capsys, staged_on=RELEASE)
    assert code == 1 and 'does not run yet' in result['msg'] and not os.path.exists(host['record'])


def test_a_full_pass_record_supersedes_the_staging_record(host, capsys):
    staged = host['record'].replace('converged.json', 'staged.json')
    old = '6.12.48+deb13-amd64'
    host.update(running=old, default=old, next=old)
    run_module(convergence_record, dict(path=staged, fingerprint=FINGERPRINT, release=RELEASE, staged_on=old), capsys)
    host.update(running=RELEASE, default=RELEASE, next=RELEASE)
    code, result = _record(host, capsys, supersedes=staged, _ansible_check_mode=True, _ansible_diff=True)
    assert code == 0 and result['changed'] and result['superseded_removed'] and os.path.exists(staged)
    assert [entry['before_header'] for entry in result['diff']] == [host['record'], staged]
    code, result = _record(host, capsys, supersedes=staged)
    assert code == 0 and result['superseded_removed'] and not os.path.exists(staged) and os.path.exists(host['record'])
    assert result['msg'].endswith('; remove the superseded record %s' % staged)
    # Nothing left to supersede, the same record: no change.
    code, result = _record(host, capsys, supersedes=staged)
    assert code == 0 and not result['changed'] and not result['superseded_removed']


@pytest.mark.parametrize('extra', [{'state': 'absent'}, {}])
def test_supersedes_is_another_record_of_a_written_one(host, capsys, extra):
    args = dict(extra, supersedes=host['record'])
    code, result = _record(host, capsys, **args)
    assert code == 1 and 'supersedes names another record' in result['msg']
