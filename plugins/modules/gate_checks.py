#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: gate_checks
short_description: Run a site's own health checks of a booted kernel (units, modules, TCP services, commands)
version_added: 0.1.0
description:
  - Runs every check of O(checks) on the host, in one call, and reports each one's result. The rollout role runs it in
    the trial boot of a new kernel, beside M(hyperion.kernel.profile_check), before the kernel becomes the default.
  - "Each check is a mapping with an optional C(name), an optional C(timeout) (for C(tcp) and C(command)) and exactly
    one kind: C(unit_active: <unit>) (the systemd unit is active), C(no_failed_units: true) (systemd has no failed
    unit), C(module_loadable: <module>) (C(modprobe --dry-run) finds it for the running kernel, for example a
    DKMS-built GPU driver), C(tcp: <host>:<port>) (a TCP connection opens; C([address]:port) for IPv6) or
    C(command: [program, args...]) (the program, an absolute path, exits 0; no shell)."
  - A check whose answer cannot be had (a tool missing, an answer that cannot be read) is V(unknown). The gate passes
    only when every check passed, so V(unknown) fails it.
  - The whole list is validated before any check runs.
author:
  - Hyperion kernel project (@hyperion-kernel)
options:
  checks:
    description: The checks, as described above. An empty list passes.
    type: list
    elements: raw
    required: true
  fail_on_failure:
    description: Fail the task when a check fails or is unknown (the results are returned either way).
    type: bool
    default: false
extends_documentation_fragment:
  - hyperion.kernel.attributes
  - hyperion.kernel.attributes.read_only
attributes:
  platform:
    support: full
    platforms: posix
notes:
  - The module only reads and connects; a C(command) check runs the site's program as it is, in check mode too, so it
    must change nothing.
seealso:
  - module: hyperion.kernel.profile_check
'''

EXAMPLES = r'''
- name: The seat's own checks in the trial boot
  hyperion.kernel.gate_checks:
    checks:
      - name: display manager
        unit_active: gdm.service
      - no_failed_units: true
      - name: GPU driver built for this kernel
        module_loadable: nvidia
      - name: license server
        tcp: license.lab.example:27000
        timeout: 3
      - name: site check
        command: [/usr/local/sbin/seat-check, --quick]
  register: site_gate
'''

RETURN = r'''
results:
  description: One result per check, in the order given.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: display manager, kind: unit_active, status: pass, detail: active}
    - {name: GPU driver built for this kernel, kind: module_loadable, status: fail,
       detail: "modprobe: FATAL: Module nvidia not found in directory /lib/modules/6.12.118-hyperion"}
summary:
  description: C(passed) (every check passed), and the names of the checks that C(failed) and that are C(unknown).
  returned: always
  type: dict
  sample: {passed: false, failed: [GPU driver built for this kernel], unknown: []}
'''

import socket

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.hyperion.kernel.plugins.module_utils import gate
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError


class HostRunner(object):
    """The host's answers for module_utils.gate: systemctl, modprobe, a TCP connection, a command."""

    def __init__(self, module):
        self.module = module

    def _tool(self, name, argv):
        path = self.module.get_bin_path(name, opt_dirs=['/usr/sbin', '/sbin', '/usr/bin', '/bin'])
        if not path:
            return None, '', '%s is not installed' % name
        return self.module.run_command([path] + argv)

    def systemctl(self, argv):
        return self._tool('systemctl', argv)

    def modprobe_dry_run(self, name):
        return self._tool('modprobe', ['--dry-run', '--verbose', name])

    def tcp_connect(self, host, port, timeout):
        try:
            connection = socket.create_connection((host, port), timeout=timeout)
        except socket.timeout:
            return 'no answer from %s port %d within %d s' % (host, port, timeout)
        except (socket.error, OSError) as exc:
            return '%s port %d: %s' % (host, port, to_native(getattr(exc, 'strerror', None) or exc))
        connection.close()
        return None

    def run(self, argv, timeout):
        # coreutils' timeout stops the command (and what it started) and exits 124.
        wrapper = self.module.get_bin_path('timeout', opt_dirs=['/usr/bin', '/bin'])
        if not wrapper:
            return None, '', 'timeout (coreutils) is not installed'
        rc, out, err = self.module.run_command([wrapper, '--kill-after=5', str(timeout)] + argv)
        if rc in (124, 137):
            return None, out, 'timed out after %d s' % timeout
        if rc in (126, 127):
            return None, out, 'cannot run %s: %s' % (argv[0], err.strip() or 'not found or not executable')
        return rc, out, err


def main():
    module = AnsibleModule(
        argument_spec=dict(
            checks=dict(type='list', elements='raw', required=True),
            fail_on_failure=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    try:
        validated = gate.checks(module.params['checks'])
    except HyperionError as exc:
        module.fail_json(msg=to_native(exc))
    results = gate.run(validated, HostRunner(module))
    summary = gate.summary(results)
    if module.params['fail_on_failure'] and not summary['passed']:
        module.fail_json(msg='site checks failed: %s' % ', '.join(summary['failed'] + summary['unknown']),
                         results=results, summary=summary)
    module.exit_json(changed=False, results=results, summary=summary)


if __name__ == '__main__':
    main()
