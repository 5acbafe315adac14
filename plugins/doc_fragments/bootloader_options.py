# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # The bootloader options of the modules that set the default and the one-time boot entry (boot_entry,
    # trial_boot): module_utils.bootloader.module_argument_spec() with boot_entries.DEFAULT_DEFAULT_DROPIN.
    DOCUMENTATION = r'''
options:
  bootloader:
    description:
      - Which bootloader to use; V(auto) looks for grubby with BLS entries, then systemd-boot, then GRUB.
    type: str
    choices: [auto, grub, grubby, systemd-boot]
    default: auto
  grub_dropin:
    description:
      - File name of the drop-in under C(/etc/default/grub.d/) that sets C(GRUB_DEFAULT=saved) (GRUB with drop-ins),
        of letters, digits, C(_), C(.) and C(-), ending in C(.cfg), as a whole; C(grub-mkconfig) reads no other name.
    type: str
    default: 90-hyperion-boot-entry.cfg
  update:
    description:
      - Regenerate C(grub.cfg) after switching GRUB to C(GRUB_DEFAULT=saved). V(false) only writes the file.
    type: bool
    default: true
  root:
    description:
      - Root directory of the system (a chroot or mounted image); tools run inside it through C(chroot).
    type: path
    default: /
'''
