#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: trial_boot
short_description: Arm the trial boot of a new kernel, or promote the kernel that passed it
version_added: 0.1.0
description:
  - The two ends of a trial boot as the rollout role runs them, each in one call, so that a batch of the fleet
    spends its time in the reboot and the health gate and not in round trips.
  - "With O(state=armed): the host's trial guard is armed with O(deadline) (the arm file
    C(/etc/hyperion-kernel/trial-boot) that C(hyperion-trial-guard) reads at boot; the note of an earlier trial
    the guard ended is removed), then O(release) is made the next boot only, as
    M(hyperion.kernel.boot_entry) does with O(hyperion.kernel.boot_entry#module:once). The default entry stays the
    kernel that runs. The guard is armed first: a one-time boot that could not be set leaves an arm file the guard
    removes at the next boot of another kernel, never a trial boot without its deadline."
  - "With O(state=promoted), after the health gate passed in the trial boot: the guard's deadline is confirmed
    (C(hyperion-trial-guard confirm) puts the trial's kernel settings back, removes the arm file and stops the
    deadline), O(release) becomes the default entry, and the record of the releases a rollback goes back to
    (O(release_record), the local fact C(hyperion_rollout)) is written. Only a release that runs is promoted."
  - Every part is planned before any change; a part that is already as wanted is left alone, so a second call
    changes nothing.
author:
  - Hyperion kernel project (@hyperion-kernel)
options:
  state:
    description: Which end of the trial boot.
    type: str
    choices: [armed, promoted]
    required: true
  release:
    description:
      - The kernel release on trial, as C(uname -r) prints it, with an entry in the bootloader.
    type: str
    required: true
  deadline:
    description:
      - With O(state=armed), the seconds of uptime within which the trial boot must be confirmed before the guard
        reboots the host into its default kernel; from 1 to 86400. Without it the next boot is set and the guard
        is not armed.
    type: int
  previous:
    description:
      - With O(state=promoted), the release the host ran before the rollout (required then). It becomes the
        release a rollback goes back to; when it is O(release) itself (the host already ran it), the recorded one
        stays.
    type: str
  release_record:
    description: The record of the current and the previous release, JSON; its directory is made when missing.
    type: path
    default: /etc/ansible/facts.d/hyperion_rollout.fact
  guard:
    description:
      - The trial guard's program, run as C(<guard> confirm) with O(state=promoted) when a trial is armed (with
        C(HYPERION_TRIAL_ROOT) set to O(root) when that is not C(/)); an armed trial without it is refused.
    type: path
    default: /usr/local/libexec/hyperion-trial-guard
extends_documentation_fragment:
  - hyperion.kernel.attributes
  - hyperion.kernel.bootloader_options
attributes:
  check_mode:
    support: full
    details: Returns the actions it would take in RV(actions) and changes nothing.
  diff_mode:
    support: full
    details: Before and after of the arm file, the release record, the boot entries and the bootloader's files.
  platform:
    support: full
    platforms: posix
notes:
  - The rollout role (C(hyperion.kernel.rollout), its C(trial.yml)) calls it once before the trial's reboot and once
    after the health gate.
seealso:
  - module: hyperion.kernel.boot_entry
  - module: hyperion.kernel.convergence_record
'''

EXAMPLES = r'''
- name: Boot the new kernel once, with the host's own deadline of 10 minutes
  hyperion.kernel.trial_boot:
    state: armed
    release: 6.12.118-hyperion
    deadline: 600

- name: Reboot
  ansible.builtin.reboot:

# ... the health gate ...

- name: Confirm the trial, make the kernel the default and record the release to go back to
  hyperion.kernel.trial_boot:
    state: promoted
    release: 6.12.118-hyperion
    previous: 6.12.48+deb13-amd64
'''

RETURN = r'''
actions:
  description: What was done, or would be done in check mode, in order (C(write) or C(remove) with C(path), C(run)
    with C(argv)), each with its C(reason).
  returned: success
  type: list
  elements: dict
  sample:
    - {action: write, path: /etc/hyperion-kernel/trial-boot, reason: the guard reboots into the default unless confirmed within 600 s of the boot}
    - {action: run, argv: [grub-reboot, "gnulinux-advanced-6568>gnulinux-6.12.118-hyperion-advanced-6568"],
       reason: boot 6.12.118-hyperion on the next boot only}
boot_entry_changed:
  description: Whether the default or the next boot entry changed (or would change).
  returned: success
  type: bool
default:
  description: The entry booted by default after the call, as M(hyperion.kernel.boot_entry) returns it.
  returned: success
  type: dict
next_boot:
  description: The entry the next boot starts.
  returned: success
  type: dict
guard_confirmed:
  description: With O(state=promoted), whether an armed trial was (or would be) confirmed.
  returned: success
  type: bool
record:
  description: With O(state=promoted), the release record as it is after the call.
  returned: success
  type: dict
  sample: {current_release: 6.12.118-hyperion, previous_release: 6.12.48+deb13-amd64}
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperion.kernel.plugins.module_utils.boot_entries import (
    DEFAULT_DEFAULT_DROPIN, apply_plan, plan_boot_entry)
from ansible_collections.hyperion.kernel.plugins.module_utils.bootloader import (
    module_argument_spec, module_plan_options)
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import module_command_runner
from ansible_collections.hyperion.kernel.plugins.module_utils.host import read_file
from ansible_collections.hyperion.kernel.plugins.module_utils.trial import (
    DEFAULT_RELEASE_RECORD, GUARD_PROGRAM, apply_changes, armed_trial, plan_arm, plan_promotion, validate_release)


def _release(entry):
    return entry.get('release') if entry else None


def _running_release(root):
    text = read_file(os.path.join(root, 'proc/sys/kernel/osrelease'))
    return text.strip() if text else None


def _confirm(module, guard, root):
    """Run the guard's confirmation; its refusal (another release armed) fails the module."""
    environ = {'HYPERION_TRIAL_ROOT': root.rstrip('/')} if root.rstrip('/') else {}
    rc, out, err = module.run_command([guard, 'confirm'], environ_update=environ)
    if rc != 0:
        raise HyperionError('%s confirm failed (rc=%s): %s' % (guard, rc, (err or out).strip()))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', choices=['armed', 'promoted'], required=True),
            release=dict(type='str', required=True),
            deadline=dict(type='int'),
            previous=dict(type='str'),
            release_record=dict(type='path', default=DEFAULT_RELEASE_RECORD),
            guard=dict(type='path', default=GUARD_PROGRAM),
            **module_argument_spec(DEFAULT_DEFAULT_DROPIN)
        ),
        required_if=[('state', 'promoted', ('previous',))],
        supports_check_mode=True,
    )
    args = module.params
    state, root = args['state'], args['root']
    options = module_plan_options(args, module_command_runner(module))
    result = dict(changed=False, guard_confirmed=False)
    try:
        release = validate_release(args['release'])
        if state == 'armed':
            if args['previous'] is not None:
                raise HyperionError('previous is for state=promoted')
            files = plan_arm(root, release, args['deadline'])
            if args['deadline'] is not None and not os.path.exists(args['guard']):
                raise HyperionError('the trial guard %s is not installed: a deadline would not be kept' % args['guard'])
            before = plan_boot_entry(**options)
            boot = plan_boot_entry(once=release, **options)
            guard_armed = False
        else:
            if args['deadline'] is not None:
                raise HyperionError('deadline is for state=armed')
            validate_release(args['previous'], 'previous')
            running = _running_release(root)
            if running != release:
                raise HyperionError('refusing to promote %s: the host runs %s; a kernel is promoted from its own boot, '
                                    'after its health gate' % (release, running or 'an unknown release'))
            change, record, problem = plan_promotion(args['release_record'], release, args['previous'])
            if problem:
                module.warn(problem)
            files = [change] if change else []
            result['record'] = record
            armed = armed_trial(root)
            guard_armed = armed is not None
            if armed and armed[1] != release:
                raise HyperionError('refusing to promote %s: %s arms a trial of %s'
                                    % (release, armed[0], armed[1] or 'no readable release'))
            if armed and not os.path.exists(args['guard']):
                raise HyperionError('a trial of %s is armed (%s) but the guard %s is not installed to confirm it'
                                    % (release, armed[0], args['guard']))
            before = plan_boot_entry(**options)
            boot = plan_boot_entry(default=release, **options)
        boot_result = boot.result()
        actions = [change.action() for change in files if state == 'armed']
        if guard_armed:
            actions.append({'action': 'run', 'argv': [args['guard'], 'confirm'],
                            'reason': 'the trial boot passed: stop the deadline, put the trial settings back'})
        actions.extend(boot_result['actions'])
        if state == 'promoted':
            actions.extend(change.action() for change in files)
        changed = bool(files) or guard_armed or boot.changed
        if changed and not module.check_mode:
            # Armed: the guard before the one-time boot. Promoted: the deadline stopped first, then the
            # default, then the record that says it happened.
            if state == 'armed':
                apply_changes(files)
            if guard_armed:
                _confirm(module, args['guard'], root)
            if boot.changed:
                apply_plan(boot)
                after = plan_boot_entry(default=release if state == 'promoted' else None,
                                        once=release if state == 'armed' else None, **options)
                if after.changed:
                    raise HyperionError('the boot entry change did not stick: a second look still plans %s' % after.actions)
                boot_result.update(default=after.default, next_boot=after.next_boot)
            if state == 'promoted':
                apply_changes(files)
    except HyperionError as exc:
        module.fail_json(msg=str(exc), **result)
    result.update(changed=changed, actions=actions, boot_entry_changed=boot.changed, guard_confirmed=guard_armed,
                  default=boot_result['default'], next_boot=boot_result['next_boot'])
    if module._diff:
        result['diff'] = [change.diff() for change in files] + boot.diffs() + [{
            'before_header': 'boot entries', 'after_header': 'boot entries',
            'before': 'default: %s\nnext boot: %s\n' % (_release(before.default), _release(before.next_boot)),
            'after': 'default: %s\nnext boot: %s\n' % (_release(result['default']), _release(result['next_boot']))}]
    done = 'nothing to change' if not changed else ('would change' if module.check_mode else 'changed')
    if state == 'armed':
        result['msg'] = 'trial boot of %s (%s): next boot %s, default %s, %s' % (
            release, done, _release(result['next_boot']), _release(result['default']),
            'guard deadline %d s' % args['deadline'] if args['deadline'] is not None else 'no guard deadline')
    else:
        result['msg'] = 'promotion of %s (%s): default %s, %sa rollback goes back to %s' % (
            release, done, _release(result['default']), 'trial confirmed, ' if guard_armed else '',
            result['record']['previous_release'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
