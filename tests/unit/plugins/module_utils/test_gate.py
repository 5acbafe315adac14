# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site's gate checks: validation of the inventory's list, and how each answer is judged."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils import gate
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError


class Replies(object):
    """A runner that answers from a table (what the tools printed), keyed by the question."""

    def __init__(self, **answers):
        self.answers = answers
        self.asked = []

    def systemctl(self, argv):
        self.asked.append(('systemctl', tuple(argv)))
        return self.answers['systemctl ' + ' '.join(argv)]

    def modprobe_dry_run(self, name):
        self.asked.append(('modprobe', name))
        return self.answers['modprobe ' + name]

    def tcp_connect(self, host, port, timeout):
        self.asked.append(('tcp', host, port, timeout))
        return self.answers['tcp %s %d' % (host, port)]

    def run(self, argv, timeout):
        self.asked.append(('run', tuple(argv), timeout))
        return self.answers['run ' + ' '.join(argv)]


def test_a_full_list_is_validated_with_names_and_timeouts():
    validated = gate.checks([
        {'name': 'display manager', 'unit_active': 'gdm.service'},
        {'no_failed_units': True},
        {'module_loadable': 'nvidia'},
        {'tcp': 'license.lab.example:27000', 'timeout': 3},
        {'tcp': '[fd00::1]:22'},
        {'command': ['/usr/local/sbin/seat-check', '--quick']},
        {'unit_active': 'getty@tty1.service', 'name': 'a login on the console'},
    ])
    assert [(c['name'], c['kind']) for c in validated] == [
        ('display manager', 'unit_active'), ('no_failed_units', 'no_failed_units'), ('module_loadable nvidia', 'module_loadable'),
        ('tcp license.lab.example:27000', 'tcp'), ('tcp fd00::1:22', 'tcp'),
        ('command /usr/local/sbin/seat-check --quick', 'command'), ('a login on the console', 'unit_active')]
    assert validated[3]['target'] == ('license.lab.example', 27000) and validated[3]['timeout'] == 3
    assert validated[4]['target'] == ('fd00::1', 22) and validated[4]['timeout'] == 5
    assert validated[5]['timeout'] == 60
    assert gate.checks(None) == [] and gate.checks([]) == []


@pytest.mark.parametrize('specs, message', [
    ({'unit_active': 'gdm.service'}, 'must be a list'),
    (['gdm.service'], 'must be a mapping'),
    ([{'name': 'nothing'}], 'exactly one of'),
    ([{'unit_active': 'gdm.service', 'tcp': 'a:1'}], 'exactly one of'),
    ([{'unit_active': 'gdm.service', 'port': 1}], 'unknown keys port'),
    ([{'unit_active': 'gdm'}], 'unit name with its type'),
    ([{'unit_active': 'gdm.service\n'}], 'unit name with its type'),
    ([{'unit_active': 'gdm.service; reboot'}], 'unit name with its type'),
    ([{'no_failed_units': 'yes'}], 'takes true'),
    ([{'module_loadable': 'nvidia drm'}], 'module name'),
    ([{'tcp': 'license.lab.example'}], 'host:port'),
    ([{'tcp': 'license.lab.example:0'}], 'port must be 1 to 65535'),
    ([{'tcp': 'license.lab.example:65536'}], 'port must be 1 to 65535'),
    ([{'tcp': 'bad host:80'}], 'not a host name'),
    ([{'tcp': 'a:80', 'timeout': 0}], 'timeout must be 1 to 600'),
    ([{'tcp': 'a:80', 'timeout': '5'}], 'timeout must be 1 to 600'),
    ([{'unit_active': 'gdm.service', 'timeout': 5}], 'takes no timeout'),
    ([{'command': '/usr/local/sbin/seat-check'}], 'list of strings'),
    ([{'command': []}], 'list of strings'),
    ([{'command': ['seat-check']}], 'absolute path'),
    ([{'name': 'x', 'unit_active': 'a.service'}, {'name': 'x', 'unit_active': 'b.service'}], 'used twice'),
    ([{'name': 'two\nlines', 'unit_active': 'a.service'}], 'one line'),
])
def test_bad_lists_are_refused_before_any_check_runs(specs, message):
    with pytest.raises(HyperionError, match=message):
        gate.checks(specs)


def test_each_answer_is_judged_and_unknown_fails_the_gate():
    validated = gate.checks([
        {'unit_active': 'gdm.service'}, {'unit_active': 'sddm.service'}, {'unit_active': 'seat.service'},
        {'no_failed_units': True}, {'module_loadable': 'nvidia'}, {'module_loadable': 'ext4'},
        {'tcp': 'license:27000'}, {'command': ['/bin/false']}, {'command': ['/usr/local/sbin/slow']},
    ])
    runner = Replies(**{
        'systemctl is-active gdm.service': (0, 'active\n', ''),
        'systemctl is-active sddm.service': (3, 'inactive\n', ''),
        # systemctl on a machine whose PID 1 is not systemd (captured on the build machine).
        'systemctl is-active seat.service': (1, '', 'System has not been booted with systemd as init system (PID 1). '
                                                    "Can't operate.\nFailed to connect to bus: Host is down\n"),
        'systemctl list-units --failed --plain --no-legend --no-pager': (
            0, 'hyperion-qdisc@ens4.service loaded failed failed Hyperion qdisc plan for ens4\n', ''),
        'modprobe nvidia': (1, '', 'modprobe: FATAL: Module nvidia not found in directory /lib/modules/6.18.44-fc-v1300\n'),
        'modprobe ext4': (0, 'insmod /lib/modules/6.12.118-hyperion/kernel/fs/ext4/ext4.ko\n', ''),
        'tcp license 27000': 'license port 27000: Connection refused',
        'run /bin/false': (1, '', ''),
        'run /usr/local/sbin/slow': (None, '', 'timed out after 60 s'),
    })
    results = gate.run(validated, runner)
    assert [(r['name'], r['status']) for r in results] == [
        ('unit_active gdm.service', 'pass'), ('unit_active sddm.service', 'fail'), ('unit_active seat.service', 'unknown'),
        ('no_failed_units', 'fail'), ('module_loadable nvidia', 'fail'), ('module_loadable ext4', 'pass'),
        ('tcp license:27000', 'fail'), ('command /bin/false', 'fail'), ('command /usr/local/sbin/slow', 'fail')]
    assert results[1]['detail'] == 'sddm.service is inactive'
    assert results[3]['detail'] == 'failed units: hyperion-qdisc@ens4.service'
    assert 'not found in directory' in results[4]['detail']
    assert results[6]['detail'] == 'license port 27000: Connection refused'
    assert results[7]['detail'] == 'exit 1' and results[8]['detail'] == 'timed out after 60 s'
    verdict = gate.summary(results)
    assert not verdict['passed'] and verdict['unknown'] == ['unit_active seat.service']
    assert gate.summary([{'name': 'a', 'kind': 'tcp', 'status': 'pass', 'detail': ''}])['passed']
    assert gate.summary(gate.run(gate.checks([{'unit_active': 'seat.service'}]), runner)) == {
        'passed': False, 'failed': [], 'unknown': ['unit_active seat.service']}
