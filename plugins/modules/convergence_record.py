#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: convergence_record
short_description: Record the state a full deploy pass left on a host, or forget it
version_added: 0.1.0
description:
  - With O(state=present), writes the record that M(hyperion.kernel.convergence_info) compares a host with on later
    runs - O(fingerprint), O(release), the O(watch) globs with the sha256 of every file they match now, and the
    O(qdisc_plans) - as JSON in O(path), atomically.
  - Write it last, after every change of the pass and after the health gate, so it describes the finished state.
  - The record is rewritten only when something in it changed, the time of recording aside, so a pass that finds
    the same state reports no change; or when it is older than O(max_age_days), so that its age counts from this
    pass.
  - With O(state=absent), removes the record, so the next run makes the full pass (a rollback does this).
  - "With O(staged_on), the record is one of a staging instead (the rollout role's, at the end of its staging):
    O(release) is installed and waits for its trial boot, O(staged_on) runs and stays the default. A later run
    that finds the host still so goes on to the trial boot without staging it again."
author:
  - Hyperion kernel project (@hyperion-kernel)
options:
  path:
    description: The record file; its directory is made when missing.
    type: path
    default: /var/lib/hyperion-kernel/converged.json
  state:
    description: Whether the record should exist.
    type: str
    choices: [present, absent]
    default: present
  fingerprint:
    description:
      - The fingerprint of the pass (sha256 in hex), from the filter P(hyperion.kernel.deploy_fingerprint#filter).
      - Required with O(state=present).
    type: str
  release:
    description:
      - The kernel release the pass left running and as the default. Required with O(state=present).
    type: str
  supersedes:
    description:
      - Another record this one replaces, removed in the same call once this one is written (the rollout's
        record of a full pass replaces the record of the staging it promoted). Not with O(state=absent).
    type: path
  staged_on:
    description:
      - For a staging record, the release the host runs (and boots by default) while O(release) waits for its trial
        boot; must differ from O(release). Omitted for the record of a full pass.
    type: str
  watch:
    description:
      - Absolute paths or globs of the files the pass manages. A later change, a new match or a missing file is a
        difference.
      - Do not name files that change on their own (C(grubenv), logs).
    type: list
    elements: str
    default: []
  qdisc_plans:
    description:
      - The qdisc plans the pass applied, as the network role resolves them (C(devices), C(state), C(qdiscs)) or one
        C(device) each. A later run checks each link's live tree against them.
    type: list
    elements: dict
    default: []
  max_age_days:
    description:
      - A record older than this many days is written again with the current time, even when nothing else in it
        changed. Pass the value M(hyperion.kernel.convergence_info) compares with, so that a pass that an old record
        brought renews it. V(0) never renews an unchanged record.
      - From V(0) to V(36500) (a century).
    type: int
    default: 0
extends_documentation_fragment:
  - hyperion.kernel.attributes
attributes:
  check_mode:
    support: full
    details: Reports whether the record would be written or removed.
  diff_mode:
    support: full
    details: The record's JSON before and after.
  platform:
    support: full
    platforms: posix
seealso:
  - module: hyperion.kernel.convergence_info
'''

EXAMPLES = r'''
- name: Record the full pass for the fast path of later runs
  hyperion.kernel.convergence_record:
    fingerprint: "{{ site_inputs_fingerprint }}"  # e.g. a hash of what steers the pass
    release: 6.12.118-hyperion
    watch:
      - /etc/sysctl.d/90-hyperion-*.conf
      - /etc/default/grub.d/*.cfg
    qdisc_plans:
      - device: enp3s0
        qdiscs:
          - {kind: cake, options: {bandwidth: 100Mbit}}

- name: Record a staging (the new kernel installed, not booted yet)
  hyperion.kernel.convergence_record:
    path: /var/lib/hyperion-kernel/staged.json
    fingerprint: "{{ site_inputs_fingerprint }}"
    release: 6.12.118-hyperion
    staged_on: "{{ ansible_facts['kernel'] }}"
    watch: [/etc/default/grub.d/*.cfg, /boot/vmlinuz-6.12.118-hyperion]

- name: Forget it after a rollback
  hyperion.kernel.convergence_record:
    state: absent
'''

RETURN = r'''
record:
  description: The record as written (or as it would be written in check mode); null with O(state=absent).
  returned: always
  type: dict
  sample:
    schema: 1
    fingerprint: 3f2a0c9d4e5b6a7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7
    release: 6.12.118-hyperion
    watch: [/etc/sysctl.d/90-hyperion-*.conf]
    files: {/etc/sysctl.d/90-hyperion-network.conf: 9c56cc51b374c3ba189210d5b6d4bf57790d351c96c47c02190ecf1e430635ab}
    qdisc_plans: {}
    recorded_at: "2026-12-03T12:00:00Z"
superseded_removed:
  description: Whether the record O(supersedes) names was there and is (or, in check mode, would be) removed.
  returned: always
  type: bool
  sample: true
'''

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hyperion.kernel.plugins.module_utils.host import atomic_write
from ansible_collections.hyperion.kernel.plugins.module_utils.convergence import (
    make_record, read_record, record_text, same_record, snapshot, stale_reason, timestamp, validate_max_age)
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.qdisc_plan import normalize_plan


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/var/lib/hyperion-kernel/converged.json'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            fingerprint=dict(type='str', no_log=False),
            release=dict(type='str'),
            watch=dict(type='list', elements='str', default=[]),
            qdisc_plans=dict(type='list', elements='dict', default=[]),
            max_age_days=dict(type='int', default=0),
            staged_on=dict(type='str'),
            supersedes=dict(type='path'),
        ),
        required_if=[('state', 'present', ('fingerprint', 'release'))],
        supports_check_mode=True,
    )
    params = module.params
    path = params['path']
    superseded = params['supersedes']
    if superseded and (params['state'] == 'absent' or os.path.abspath(superseded) == os.path.abspath(path)):
        module.fail_json(msg='supersedes names another record to remove once this one is written: not with state=absent, '
                             'not the record itself (%s)' % path)
    old, problem = read_record(path)
    exists = os.path.exists(path)
    before = record_text(old) if old is not None else ('(unreadable: %s)\n' % problem if problem else '')
    if params['state'] == 'absent':
        new, after, changed = None, '', exists
    else:
        now = time.time()
        try:
            max_age_days = validate_max_age(params['max_age_days'])
            new = make_record(params['fingerprint'], params['release'], params['watch'], snapshot(params['watch']),
                              params['qdisc_plans'], timestamp(now), staged_on=params['staged_on'])
            # A plan tc_qdisc would refuse must not be recorded: the host could never match it.
            for plan in new['qdisc_plans'].values():
                normalize_plan(plan['qdiscs'], plan['state'])
        except HyperionError as exc:
            module.fail_json(msg=str(exc))
        # The same state keeps its record, unless the record outlived its maximum age: then this
        # pass renews it, and the age counts from now.
        changed = not same_record(old, new) or stale_reason(old, max_age_days, now) is not None
        if not changed:
            new = old
        after = record_text(new)
    if changed and not module.check_mode:
        try:
            if new is None:
                os.unlink(path)
            else:
                atomic_write(path, after)
        except (IOError, OSError) as exc:
            module.fail_json(msg='cannot %s the record %s: %s' % ('remove' if new is None else 'write', path, exc))
    # Only after this record is in place: a failure before leaves the old pair, never neither.
    superseded_removed = bool(superseded) and os.path.lexists(superseded)
    if superseded_removed and not module.check_mode:
        try:
            os.unlink(superseded)
        except (IOError, OSError) as exc:
            module.fail_json(msg='cannot remove the superseded record %s: %s' % (superseded, exc))
    result = dict(changed=changed or superseded_removed, record=new, superseded_removed=superseded_removed)
    if module._diff:
        result['diff'] = dict(before=before, after=after, before_header=path, after_header=path)
        if superseded_removed:
            result['diff'] = [result['diff'], dict(before='(a record)\n', after='', before_header=superseded, after_header=superseded)]
    verb = ('would ' if module.check_mode else '') + ('remove' if new is None else 'write')
    result['msg'] = ('%s the record %s' % (verb, path)) if changed else 'the record %s is up to date' % path
    if superseded_removed:
        result['msg'] += '; %sremove the superseded record %s' % ('would ' if module.check_mode else '', superseded)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
