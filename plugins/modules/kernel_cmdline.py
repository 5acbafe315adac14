#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kernel_cmdline
short_description: Add, change and remove kernel command line parameters persistently
version_added: 0.1.0
description:
  - Sets kernel parameters for the next boot in the bootloader's own configuration and reports whether a reboot is
    needed to get them. Only the parameters given in O(params) are touched; every other parameter stays as it is.
  - "GRUB where C(grub-mkconfig) reads C(/etc/default/grub.d/*.cfg) (Debian, Ubuntu): the parameters go into the drop-in
    O(grub_dropin), which appends them to C(GRUB_CMDLINE_LINUX); a managed parameter found in C(GRUB_CMDLINE_LINUX) or
    C(GRUB_CMDLINE_LINUX_DEFAULT) of C(/etc/default/grub) is taken out of that line; one set by another drop-in is an
    error naming that file. Then C(update-grub) (or C(grub-mkconfig -o /boot/grub/grub.cfg)) runs."
  - "GRUB elsewhere (Arch, upstream GRUB without drop-ins): C(GRUB_CMDLINE_LINUX_DEFAULT) in C(/etc/default/grub) is
    edited, then C(grub-mkconfig -o /boot/grub/grub.cfg) runs."
  - "What the next boot gets under GRUB is read the way C(grub-mkconfig) reads it: C(/etc/default/grub) and the
    drop-ins are sourced in order with C(/bin/sh) (the planned contents, from a private temporary copy), so a file that
    overrides the module's values is detected before anything is written."
  - "grubby (Fedora, EL): C(grubby --info=ALL) is read and C(grubby --update-kernel=ALL --args=... --remove-args=...)
    runs when an entry differs."
  - "systemd-boot: the C(options) lines of every Type #1 entry in C(loader/entries/) of the ESP and XBOOTLDR
    (C(bootctl --print-esp-path), C(--print-boot-path), else C(/efi), C(/boot), C(/boot/efi)) and
    C(/etc/kernel/cmdline), which C(kernel-install) uses for kernels installed later."
  - Every parameter is checked before anything is read or written, in check mode too. File writes are atomic (written
    beside the file, synced, renamed over it) and keep the file's mode and owner.
  - "The whole command line of every boot entry the change touches (for GRUB C(BOOT_IMAGE=), C(root=) and C(ro) as
    C(grub-mkconfig) and GRUB add them, with the longest kernel in C(/boot); for grubby C(BOOT_IMAGE=); for
    systemd-boot its C(initrd=) options, and C(systemd.machine_id=) that C(kernel-install) adds) must fit in
    C(COMMAND_LINE_SIZE) - 1 bytes of this machine's architecture (2047 on x86_64 and aarch64, 1023 on 32-bit ARM
    and riscv64, 511 where the kernel uses asm-generic's size); the kernel silently drops what is beyond. A longer
    line is refused before anything is written; a line that is already too long is only reported in RV(details)."
author:
  - Hyperion kernel project (@hyperion-kernel)
options:
  params:
    description:
      - The parameters to manage. Names compare as the kernel compares them (C(-) and C(_) are the same character).
      - A present parameter already on the line more than once is reduced to the one managed value.
      - Omitted, no parameter is managed, and the module only regenerates a bootloader configuration that is older than
        the files it is generated from (after M(hyperion.kernel.managed_files) restored them; a drop-in added or
        removed counts). An empty list is refused.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Parameter name, letters, digits, C(_), C(.) and C(-) only, starting with a letter or a digit
            (C(kgdboc), C(zswap.enabled)), at most 128 characters. C(--), which hands the rest of the line to init,
            is refused.
        type: str
        required: true
      value:
        description:
          - Value; omit it for a bare flag such as C(kgdbwait).
          - Printable ASCII only. White space (the kernel's, byte 0xA0 included), quotes, C($), backticks,
            backslashes, C(;), C(&), C(|), C(<), C(>), C({), C(}) and control characters are refused, because the value
            ends up in shell-sourced files and in GRUB's script, where they are syntax.
          - "C(panic) needs a whole number from -2147483648 to 2147483. C(kernel/panic.c) waits C(panic * 1000) ms in an
            C(int), so a larger value overflows (and above 2147483647 the kernel ignores it and never reboots).
            0 never reboots, a negative value reboots at once."
        type: str
      state:
        description:
          - V(present) puts the parameter with this value on the command line, V(absent) removes every value of it.
        type: str
        choices: [present, absent]
        default: present
  bootloader:
    description:
      - Which bootloader to configure. V(auto) looks for grubby with BLS entries, then systemd-boot, then GRUB, and
        fails listing what it looked for when none is found.
    type: str
    choices: [auto, grub, grubby, systemd-boot]
    default: auto
  grub_dropin:
    description:
      - "File name of the drop-in under C(/etc/default/grub.d/) (GRUB with drop-ins only): letters, digits, C(_), C(.)
        and C(-), ending in C(.cfg), as a whole (a trailing newline is refused: C(grub-mkconfig) would never read the
        file). Drop-ins are sourced in name order, so a high number wins over packages' files."
    type: str
    default: 90-hyperion-kernel.cfg
  update:
    description:
      - Run the bootloader's regeneration (C(update-grub), C(grub-mkconfig)) after a change, or when C(grub.cfg) is older
        than the files it is generated from. V(false) only writes the files. grubby and systemd-boot have nothing to
        regenerate.
    type: bool
    default: true
  root:
    description:
      - The root directory of the system to configure, for a chroot or a mounted image. Files are read and written
        below it and the bootloader's tools run inside it through C(chroot). C(/proc/cmdline) is read below it too.
    type: path
    default: /
  snapshot_dir:
    description:
      - Where the files the module writes are recorded as they were before their first change, the snapshot
        M(hyperion.kernel.managed_files) keeps for a rollback (O(hyperion.kernel.managed_files#module:restore=true)
        puts them back). Below O(root).
      - C(grubby) edits its entries itself, so on grubby hosts only the files the module writes are recorded.
    type: path
    default: /var/lib/hyperion-kernel/previous-state
  record_previous:
    description: Whether to record the files before their first change.
    type: bool
    default: true
extends_documentation_fragment:
  - hyperion.kernel.attributes
attributes:
  check_mode:
    support: full
    details: Returns the list of actions it would take in RV(actions); reads files and runs read-only commands only.
  diff_mode:
    support: full
    details: Before and after of every file the module writes. Changes made by C(grubby) are listed in RV(actions).
  platform:
    support: full
    platforms: posix
notes:
  - Sourcing C(/etc/default/grub) runs the shell code in it, as C(grub-mkconfig) does.
  - The parameters reach the running kernel only after a reboot; use RV(reboot_required) to trigger one.
seealso:
  - module: hyperion.kernel.kernel_facts
  - module: hyperion.kernel.profile_check
'''

EXAMPLES = r'''
- name: Debugger on the serial console, no watchdog
  hyperion.kernel.kernel_cmdline:
    params:
      - {name: kgdboc, value: "ttyS0,115200"}
      - {name: nmi_watchdog, value: "0"}
      - {name: kgdbwait, state: absent}
  register: hyperion_cmdline

- name: Reboot when the next boot's parameters differ from the running kernel's
  ansible.builtin.reboot:
  when: hyperion_cmdline.reboot_required

- name: Configure an image mounted at /mnt/image, writing the files only
  hyperion.kernel.kernel_cmdline:
    root: /mnt/image
    bootloader: grub
    update: false
    params:
      - {name: transparent_hugepage, value: madvise}
'''

RETURN = r'''
recorded:
  description: The files recorded in O(snapshot_dir) by this run, before their first change.
  returned: when files were written
  type: list
  elements: str
bootloader:
  description: The bootloader configured (detected or as given).
  returned: success
  type: str
  sample: grub
actions:
  description:
    - What was done, or would be done in check mode, in order. Empty when the host already has the parameters.
    - C(write) and C(remove) carry C(path); C(run) carries C(argv); every action has a C(reason).
  returned: success
  type: list
  elements: dict
  sample:
    - {action: write, path: /etc/default/grub.d/90-hyperion-kernel.cfg, reason: GRUB_CMDLINE_LINUX drop-in with the managed parameters}
    - {action: run, argv: [update-grub], reason: regenerate grub.cfg}
next_boot:
  description: The managed parameters as the next boot gets them (name to value, null for a bare flag); absent ones are left out.
  returned: success
  type: dict
  sample: {kgdboc: "ttyS0,115200", nmi_watchdog: "0"}
current:
  description: The managed parameters as the running kernel has them in C(/proc/cmdline); null when it cannot be read.
  returned: success
  type: dict
  sample: {nmi_watchdog: "0"}
cmdline_difference:
  description: Per managed parameter, how the running kernel (C(current)) and the next boot (C(next_boot)) have it, as
    the text on the command line (null = absent), and whether they differ.
  returned: success
  type: dict
  sample: {kgdboc: {current: null, next_boot: "kgdboc=ttyS0,115200", differs: true}}
reboot_required:
  description:
    - Whether the next boot's managed parameters differ from the running kernel's.
    - When C(/proc/cmdline) cannot be read below O(root) (an image), true when this run changed something.
  returned: success
  type: bool
  sample: true
details:
  description:
    - What the module read to decide, per bootloader (GRUB mode and sourced variables, BLS entries, entry files).
    - C(command_line_length) is the longest whole command line after the change in bytes, where it is and the limit.
  returned: success
  type: dict
  sample: {grub_config: dropin, grub_cmdline: {GRUB_CMDLINE_LINUX: " kgdboc=ttyS0,115200", GRUB_CMDLINE_LINUX_DEFAULT: quiet},
           command_line_length: {longest: 92, where: the GRUB linux line, limit: 2047}}
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperion.kernel.plugins.module_utils.bootloader import (
    DEFAULT_GRUB_DROPIN, apply_plan, module_argument_spec, module_plan_options, plan_cmdline)
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import module_command_runner
from ansible_collections.hyperion.kernel.plugins.module_utils.managed_files import check_path, record_current


def main():
    module = AnsibleModule(
        argument_spec=dict(
            params=dict(type='list', elements='dict', options=dict(
                name=dict(type='str', required=True),
                value=dict(type='str'),
                state=dict(type='str', choices=['present', 'absent'], default='present'),
            )),
            snapshot_dir=dict(type='path', default='/var/lib/hyperion-kernel/previous-state'),
            record_previous=dict(type='bool', default=True),
            # bootloader, grub_dropin, update, root: the same options as boot_entry's.
            **module_argument_spec(DEFAULT_GRUB_DROPIN)
        ),
        supports_check_mode=True,
    )
    args = module.params
    options = module_plan_options(args, module_command_runner(module))
    try:
        plan = plan_cmdline(args['params'], **options)
        result = plan.result()
        diffs = plan.diffs()
        snapshot_dir = check_path(args['snapshot_dir'], 'snapshot_dir')
        if plan.changed and not module.check_mode:
            if args['record_previous']:
                # Before the first change: the snapshot keeps the state before the collection came.
                result['recorded'] = record_current([change.path for change in plan.files],
                                                    os.path.join(args['root'], snapshot_dir.lstrip('/')))
            apply_plan(plan)
            # Read everything back: a bootloader tool that ignored the change must not pass as success.
            after = plan_cmdline(args['params'], **options)
            if after.files or after.commands:
                module.fail_json(msg='the changes did not stick: a second look still plans %s' % after.actions, **result)
            # Without a readable /proc/cmdline (an image) only this run's change says a boot is due.
            reboot = after.reboot_required if after.current is not None else plan.reboot_required
            result.update(next_boot=after.next_boot, reboot_required=reboot,
                          cmdline_difference=after.result()['cmdline_difference'])
    except HyperionError as exc:
        module.fail_json(msg=str(exc))
    if module._diff:
        result['diff'] = diffs
    if result['changed']:
        verb = 'would change' if module.check_mode else 'changed'
        advice = '; reboot to apply' if result['reboot_required'] else ''
        result['msg'] = '%s %s for the next boot%s' % (verb, result['bootloader'], advice)
    else:
        result['msg'] = 'the %s configuration already has the parameters' % result['bootloader']
    module.exit_json(**result)


if __name__ == '__main__':
    main()
