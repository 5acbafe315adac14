# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperion.kernel.boot_params checks the names that reach paths before it reads anything.

The drop-in name decides whether grub-mkconfig reads the file at all ("x.cfg\\n" it never does), the
kernel release is a path under /boot, an extra parameter's name a path under /sys/module and a word
of the command line ("--" hands the rest to init). The real role runs with ansible-playbook in check
mode on this machine, each case a local host of one run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.hyperion.kernel.tests.unit.roles.role_runs import assert_refused_first, run_role

ROLE = 'hyperion.kernel.boot_params'
CHECK = 'Check the drop-in, the sysctl.d file, the kernel release and the extra parameter names'

CASES = [
    ('dropin-newline', {'boot_params_grub_dropin': 'x.cfg\n'},
     ['boot_params_grub_dropin must be a file name ending in .cfg', 'got "x.cfg\\n"']),
    ('dropin-not-cfg', {'boot_params_grub_dropin': '90-hyperion-boot-params'}, ['boot_params_grub_dropin must be']),
    ('sysctl-file-elsewhere', {'boot_params_sysctl_file': '/etc/sysrq.conf'},
     ['boot_params_sysctl_file must be a file name ending in .conf directly in /etc/sysctl.d', 'got "/etc/sysrq.conf"']),
    ('sysctl-file-climbs', {'boot_params_sysctl_file': '/etc/sysctl.d/../cron.d/x.conf'}, ['boot_params_sysctl_file must be']),
    ('release-climbs-out', {'boot_params_kernel_release': '../../etc/shadow'},
     ['boot_params_kernel_release must be a kernel release', 'got "../../etc/shadow"']),
    ('release-newline', {'boot_params_kernel_release': '6.19.2-hyperion\n'}, ['boot_params_kernel_release must be']),
    ('extra-dashes', {'boot_params_extra': [{'name': '--'}, {'name': 'quiet'}]},
     ['boot_params_extra: "--" is not a kernel parameter name']),
    ('extra-newline', {'boot_params_extra': [{'name': 'nmi_watchdog\n', 'value': '0'}]}, ['"nmi_watchdog\\n" is not']),
    ('extra-path', {'boot_params_extra': [{'name': '../../../etc.x', 'value': '0'}]}, ['"../../../etc.x" is not']),
]


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    code, document, stderr = run_role(tmp_path_factory.mktemp('boot-params-inputs'), ROLE,
                                      dict((case, variables) for case, variables, _expected in CASES))
    assert code != 0, stderr
    return document


@pytest.mark.parametrize('case, variables, expected', CASES, ids=[case[0] for case in CASES])
def test_refused_before_anything_is_read(runs, case, variables, expected):
    del variables
    assert_refused_first(runs, case, CHECK, expected)
