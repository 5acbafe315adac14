#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: boot_entry
short_description: List the boot entries of installed kernels, set the default kernel, boot a kernel once
version_added: 0.1.0
description:
  - Lists the bootloader's entries for installed kernels with the current default and the next boot.
  - With O(default), makes a kernel release the default entry (every boot from now on). With O(once), boots a
    release on the next boot only; the boot after that comes back to the default. Both may be given together.
  - A kernel is addressed by its release as C(uname -r) prints it (C(6.12.117-hyperion)).
  - "GRUB (Debian, Ubuntu, Arch): entries come from C(grub.cfg). A kernel is addressed through its entry in the
    C(Advanced options) submenu (C(gnulinux-advanced-UUID>gnulinux-RELEASE-advanced-UUID)), which does not move
    when other kernels are installed; the top entry that always boots the newest kernel is never used.
    A default and a one-time boot both need C(GRUB_DEFAULT=saved): it is set in the drop-in O(grub_dropin) under
    C(/etc/default/grub.d) where C(grub-mkconfig) reads drop-ins (else in C(/etc/default/grub)), and C(grub.cfg) is
    regenerated. When GRUB is switched to C(saved) without O(default), the running kernel's entry is saved as the
    default, so the switch never changes which kernel boots by default. Then C(grub-set-default) and
    C(grub-reboot) (C(grub2-*) where only those exist) write C(grubenv)."
  - "grubby (Fedora, EL): C(grubby --set-default) and C(grub2-reboot) with the BLS entry id."
  - "systemd-boot: C(bootctl set-default) and C(bootctl set-oneshot) with the entry file name; the current values
    are read from the EFI variables C(LoaderEntryDefault) and C(LoaderEntryOneShot)."
  - A release without an entry is refused before anything changes, naming the releases that have entries.
author:
  - Hyperion kernel project (@hyperion-kernel)
options:
  default:
    description:
      - Kernel release to make the default boot entry. Rolling back is O(default) with the previous release.
      - Letters, digits, C(.), C(_), C(+), C(~) and C(-), starting with a letter or digit, at most 128 characters.
    type: str
  once:
    description:
      - Kernel release to boot on the next boot only (GRUB C(next_entry), systemd-boot C(LoaderEntryOneShot)).
      - A one-time boot is used up by that boot, so a later run with the same O(once) arms it again; give it only
        when the next reboot should try the kernel.
    type: str
extends_documentation_fragment:
  - hyperion.kernel.attributes
  - hyperion.kernel.bootloader_options
attributes:
  check_mode:
    support: full
    details: Returns the actions it would take in RV(actions).
  diff_mode:
    support: full
    details: Before and after of the drop-in and of the default and next boot entries.
  platform:
    support: full
    platforms: posix
notes:
  - Sourcing C(/etc/default/grub) runs the shell code in it, as C(grub-mkconfig) does.
  - The grubby and systemd-boot paths follow the tools' documented interfaces and are unit-tested on captured files;
    the GRUB path was proved on a Debian trixie machine through real reboots.
seealso:
  - module: hyperion.kernel.kernel_cmdline
  - module: hyperion.kernel.kernel_preflight
'''

EXAMPLES = r'''
- name: List the boot entries
  hyperion.kernel.boot_entry:
  register: boot_entries

- name: Try the new kernel on the next boot only (the default stays the kernel that runs now)
  hyperion.kernel.boot_entry:
    once: 6.12.117-hyperion

- name: After the health gate, make it the default
  hyperion.kernel.boot_entry:
    default: 6.12.117-hyperion

- name: Roll back to the previous kernel
  hyperion.kernel.boot_entry:
    default: "{{ previous_release }}"
'''

RETURN = r'''
bootloader:
  description: The bootloader used (detected or as given).
  returned: success
  type: str
  sample: grub
entries:
  description: Boot entries that boot a kernel (C(id), C(title), C(release), C(kernel), C(kind), C(path)). C(kind) is
    C(simple) (GRUB's top entry for the newest kernel), C(advanced) (the per-kernel entry) or C(recovery). C(path) is
    what the bootloader's tools take (GRUB's submenu path, the BLS id, the loader entry file name).
  returned: success
  type: list
  elements: dict
  sample:
    - {id: gnulinux-6.12.117-hyperion-advanced-6568, title: "Debian GNU/Linux, with Linux 6.12.117-hyperion",
       release: 6.12.117-hyperion, kernel: /boot/vmlinuz-6.12.117-hyperion, kind: advanced,
       path: "gnulinux-advanced-6568>gnulinux-6.12.117-hyperion-advanced-6568"}
default:
  description: The entry booted by default (after this run's change); null when it cannot be resolved.
  returned: success
  type: dict
next_boot:
  description: The entry the next boot starts (the one-time entry when one is armed, else the default).
  returned: success
  type: dict
actions:
  description: What was done, or would be done in check mode, in order (C(write) with C(path), C(run) with C(argv)).
  returned: success
  type: list
  elements: dict
  sample:
    - {action: write, path: /etc/default/grub.d/90-hyperion-boot-entry.cfg, reason: GRUB_DEFAULT=saved so grubenv chooses the entry}
    - {action: run, argv: [update-grub], reason: regenerate grub.cfg with GRUB_DEFAULT=saved}
    - action: run
      argv: [grub-reboot, "gnulinux-advanced-6568>gnulinux-6.12.117-hyperion-advanced-6568"]
      reason: boot 6.12.117-hyperion on the next boot only
boot_entry_reboot_required:
  description: Whether the next boot starts a different kernel release than the one running.
  returned: success
  type: bool
details:
  description: What was read to decide (GRUB_DEFAULT, saved_entry, next_entry, EFI variables).
  returned: success
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperion.kernel.plugins.module_utils.boot_entries import (
    DEFAULT_DEFAULT_DROPIN, apply_plan, plan_boot_entry)
from ansible_collections.hyperion.kernel.plugins.module_utils.bootloader import (
    module_argument_spec, module_plan_options)
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import module_command_runner


def _release(entry):
    return entry.get('release') if entry else None


def main():
    module = AnsibleModule(
        argument_spec=dict(
            default=dict(type='str'),
            once=dict(type='str'),
            # bootloader, grub_dropin, update, root: the same options as kernel_cmdline's.
            **module_argument_spec(DEFAULT_DEFAULT_DROPIN)
        ),
        supports_check_mode=True,
    )
    args = module.params
    options = module_plan_options(args, module_command_runner(module))
    try:
        before = plan_boot_entry(**options)
        plan = plan_boot_entry(default=args['default'], once=args['once'], **options)
        result = plan.result()
        if plan.changed and not module.check_mode:
            apply_plan(plan)
            # Read back: a tool that ignored us must not pass as success.
            after = plan_boot_entry(default=args['default'], once=args['once'], **options)
            if after.changed:
                module.fail_json(msg='the boot entry change did not stick: a second look still plans %s'
                                 % after.actions, **result)
            result.update(default=after.default, next_boot=after.next_boot, entries=after.entries,
                          details=after.details)
    except HyperionError as exc:
        module.fail_json(msg=str(exc))
    running = None
    try:
        with open(args['root'].rstrip('/') + '/proc/sys/kernel/osrelease') as handle:
            running = handle.read().strip()
    except (IOError, OSError):
        pass
    next_release = _release(result['next_boot'])
    result['boot_entry_reboot_required'] = bool(next_release and running and next_release != running)
    if module._diff:
        result['diff'] = plan.diffs() + [{
            'before_header': 'boot entries', 'after_header': 'boot entries',
            'before': 'default: %s\nnext boot: %s\n' % (_release(before.default), _release(before.next_boot)),
            'after': 'default: %s\nnext boot: %s\n' % (_release(result['default']), next_release)}]
    if result['changed']:
        verb = 'would set' if module.check_mode else 'set'
        result['msg'] = '%s default %s, next boot %s' % (verb, _release(result['default']), next_release)
    else:
        result['msg'] = 'default %s, next boot %s: nothing to change' % (_release(result['default']), next_release)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
