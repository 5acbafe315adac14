#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: convergence_info
short_description: Tell whether a host is still as the last full deploy pass left it
version_added: 0.1.0
description:
  - Reads the record that M(hyperion.kernel.convergence_record) wrote at the end of the host's last full pass of
    C(deploy.yml) and compares the host with it, in one call. The host is converged when
  - 1. the record's fingerprint is O(fingerprint) (the same role inputs and the same collection code);
  - 2. the running kernel, the default boot entry and the next boot are all the recorded release (no one-time boot
    is armed);
  - 3. every file the record's watch globs match has the recorded sha256, and no file was added or removed;
  - 4. every recorded qdisc plan still holds on its link (the tree C(tc -j qdisc show) reads needs no change, as
    M(hyperion.kernel.tc_qdisc) would judge it in check mode);
  - 5. the record is not older than O(max_age_days).
  - A missing, unreadable or foreign record means not converged. The module never changes the host.
  - "A staging record (written with C(staged_on)) is compared the same way, except that the release it names must
    be installed but not running: the host runs C(staged_on) as the default, and no one-time boot is armed. The
    answer is then whether the host is still as its staging left it."
  - The running kernel's own settings (sysctls, zram, I/O schedulers, the command line) are not in the record;
    M(hyperion.kernel.profile_check) checks them, and the rollout requires both.
author:
  - Hyperion kernel project (@hyperion-kernel)
options:
  path:
    description: The record file.
    type: path
    default: /var/lib/hyperion-kernel/converged.json
  fingerprint:
    description:
      - The fingerprint this run would record (sha256 in hex), from the filter
        P(hyperion.kernel.deploy_fingerprint#filter).
    type: str
    required: true
  max_age_days:
    description:
      - How many days a record stands for the host. An older one means not converged, so a host gets a full pass
        at least that often, which finds what the record does not check (a live setting outside the profile).
        M(hyperion.kernel.convergence_record) renews the record at that pass when given the same value.
      - V(0) means no limit; at most V(36500) (a century).
    type: int
    default: 0
extends_documentation_fragment:
  - hyperion.kernel.attributes
  - hyperion.kernel.attributes.read_only
seealso:
  - module: hyperion.kernel.convergence_record
  - module: hyperion.kernel.profile_check
'''

EXAMPLES = r'''
- name: Look at the record of the last full pass
  hyperion.kernel.convergence_info:
    fingerprint: "{{ rollout_inputs | hyperion.kernel.deploy_fingerprint }}"
  register: convergence

- name: Say why the full pass is needed
  ansible.builtin.debug:
    msg: "{{ convergence.reasons }}"
  when: not convergence.converged
'''

RETURN = r'''
converged:
  description: Whether nothing differs from the record.
  returned: always
  type: bool
  sample: true
reasons:
  description: What differs, one readable line each; empty when converged.
  returned: always
  type: list
  elements: str
  sample:
    - /etc/sysctl.d/90-hyperion-tuning.conf changed
    - the default boot entry is 6.12.48+deb13-amd64, the full pass left 6.12.118-hyperion
record:
  description: The record as read (C(fingerprint), C(release), C(watch), C(files), C(qdisc_plans), C(recorded_at)); null
    when there is none.
  returned: always
  type: dict
qdisc_plans:
  description: The record's qdisc plans, one C(device) each, as M(hyperion.kernel.convergence_record) takes them
    (to write a later record of the same plans); empty when there is no record.
  returned: always
  type: list
  elements: dict
  sample:
    - {device: enp3s0, state: present, qdiscs: [{kind: cake, options: {bandwidth: 100Mbit}}]}
running_release:
  description: The running kernel's release.
  returned: always
  type: str
  sample: 6.12.118-hyperion
default_release:
  description: The release of the default boot entry; null when it cannot be resolved.
  returned: always
  type: str
  sample: 6.12.118-hyperion
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hyperion.kernel.plugins.module_utils.boot_entries import plan_boot_entry
from ansible_collections.hyperion.kernel.plugins.module_utils.convergence import (
    compare, plans_of_record, read_record, snapshot, validate_fingerprint, validate_max_age)
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import module_command_runner
from ansible_collections.hyperion.kernel.plugins.module_utils.qdisc_plan import apply_plan


def _running_release():
    with open('/proc/sys/kernel/osrelease') as handle:
        return handle.read().strip()


def _boot_releases(run):
    """(default release, next boot release, problem)."""
    try:
        plan = plan_boot_entry(run=run)
    except HyperionError as exc:
        return None, None, 'the boot entries cannot be read: %s' % exc
    default = (plan.default or {}).get('release')
    next_boot = (plan.next_boot or {}).get('release')
    return default, next_boot, None


def _qdisc_reasons(run, plans):
    reasons = []
    for device in sorted(plans):
        plan = plans[device]
        try:
            # Compared only: the driver check of a taprio full offload is the network role's, before it changes a link.
            outcome = apply_plan(run, device, plan.get('qdiscs') or [], plan.get('state') or 'present', check_mode=True)
        except HyperionError as exc:
            reasons.append('the qdisc plan of %s cannot be checked: %s' % (device, exc))
            continue
        if outcome['changed']:
            reasons.append('the qdiscs of %s differ from the plan: %s' % (device, '; '.join(outcome['reasons'])))
    return reasons


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/var/lib/hyperion-kernel/converged.json'),
            fingerprint=dict(type='str', required=True, no_log=False),
            max_age_days=dict(type='int', default=0),
        ),
        supports_check_mode=True,
    )
    try:
        wanted = validate_fingerprint(module.params['fingerprint'])
        max_age_days = validate_max_age(module.params['max_age_days'])
        running = _running_release()
    except (HyperionError, IOError, OSError) as exc:
        module.fail_json(msg=str(exc))
    result = dict(changed=False, converged=False, reasons=[], record=None, running_release=running,
                  default_release=None, qdisc_plans=[])
    record, problem = read_record(module.params['path'])
    if record is None:
        result['reasons'] = [problem or 'no record of a full pass (%s)' % module.params['path']]
        result['msg'] = 'not converged: %s' % result['reasons'][0]
        module.exit_json(**result)
    run = module_command_runner(module)
    default, next_boot, boot_problem = _boot_releases(run)
    try:
        files_now = snapshot(record.get('watch') or [])
    except HyperionError as exc:
        files_now = {}
        boot_problem = boot_problem or 'the record\'s watch list is unusable: %s' % exc
    reasons = compare(record, wanted, running, default, next_boot, files_now, max_age_days=max_age_days)
    if boot_problem:
        reasons.append(boot_problem)
    reasons.extend(_qdisc_reasons(run, record.get('qdisc_plans') or {}))
    result.update(converged=not reasons, reasons=reasons, record=record, default_release=default,
                  qdisc_plans=plans_of_record(record))
    if reasons:
        result['msg'] = 'not converged: %s' % '; '.join(reasons)
    elif 'staged_on' in record:
        result['msg'] = 'staged: %s waits for its trial boot, %s runs as the default, as the staging of %s left it' % (
            record.get('release'), running, record.get('recorded_at'))
    else:
        result['msg'] = 'converged: runs %s as the default, as the full pass of %s left it' % (
            running, record.get('recorded_at'))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
