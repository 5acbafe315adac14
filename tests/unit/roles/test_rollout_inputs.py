# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperion.kernel.rollout's first check refuses a panic timeout the kernel cannot take and a drop-in
name grub-mkconfig would never read, before anything else runs.

kernel/panic.c waits "i < panic_timeout * 1000" with an int: above 2147483 the product overflows and
the wait is skipped, above 2147483647 the kernel ignores the value and never reboots, 0 never reboots;
the fallback of a failed boot-once needs the reboot. The real role runs with ansible-playbook on this
machine, each case a local host of one run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.hyperion.kernel.tests.unit.roles.role_runs import assert_refused_first, host_tasks, run_role

ROLE = 'hyperion.kernel.rollout'
CHECK = 'Check the forms of the rollout variables'

CASES = [
    ('panic-zero', {'rollout_panic_timeout': 0}, ['rollout_panic_timeout must be from 1 to 2147483 seconds, got 0']),
    ('panic-negative', {'rollout_panic_timeout': -1}, ['got -1', 'below 0 reboots at once']),
    ('panic-overflows', {'rollout_panic_timeout': 2147484, 'rollout_reboot_timeout': 3000000},
     ['must be from 1 to 2147483 seconds, got 2147484']),
    ('panic-beyond-int', {'rollout_panic_timeout': 4294967306, 'rollout_reboot_timeout': 5000000000},
     ['got 4294967306']),
    ('panic-after-the-wait', {'rollout_panic_timeout': 900, 'rollout_reboot_timeout': 900},
     ['rollout_panic_timeout (900) must be below rollout_reboot_timeout (900)']),
    ('dropin-newline', {'rollout_cmdline_dropin': 'x.cfg\n'},
     ['rollout_cmdline_dropin must be a file name ending in .cfg, got "x.cfg\\n"']),
    ('dropin-not-cfg', {'rollout_cmdline_dropin': '91-hyperion-rollout.conf'}, ['rollout_cmdline_dropin must be']),
    ('dropin-climbs-out', {'rollout_cmdline_dropin': '../grub.cfg'}, ['rollout_cmdline_dropin must be']),
]
GOOD = {'panic-largest': {'rollout_panic_timeout': 2147483, 'rollout_reboot_timeout': 2147484},
        'panic-default': {}}


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    hosts = dict((case, variables) for case, variables, _expected in CASES)
    hosts.update(GOOD)
    code, document, stderr = run_role(tmp_path_factory.mktemp('rollout-inputs'), ROLE, hosts)
    assert code != 0, stderr
    return document


@pytest.mark.parametrize('case, variables, expected', CASES, ids=[case[0] for case in CASES])
def test_refused_at_the_first_check(runs, case, variables, expected):
    del variables
    assert_refused_first(runs, case, CHECK, expected)


@pytest.mark.parametrize('case', sorted(GOOD))
def test_bounds_themselves_pass(runs, case):
    checks = [result for name, result in host_tasks(runs, case) if name == CHECK]
    assert checks and not checks[0].get('failed'), (case, checks)
