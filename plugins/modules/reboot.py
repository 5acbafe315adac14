#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: reboot
short_description: Reboot a host and wait for it, without the round trips that are not the reboot
version_added: 0.1.0
description:
  - M(ansible.builtin.reboot) with three of its steps done otherwise, so that a rollout's batch waits for the reboot
    and not for the tool. The shutdown, the boot id comparison, the test command and every option of the builtin are
    the builtin's own code (this is its action plugin, subclassed).
  - The host's distribution comes from the facts the play already gathered (the minimal subset is enough); the builtin
    runs the C(setup) module before every reboot. Without those facts, C(setup) runs as in the builtin.
  - The shutdown command is looked up in O(search_paths) with one shell command; the builtin runs the C(find) module.
    Where the shell finds nothing, the builtin's own search runs, with its error.
  - Until the host is back, it is asked every O(poll_interval) seconds. The builtin doubles its wait after each try
    up to 12 seconds, so a host that came back waits up to 12 seconds more to be seen.
author:
  - Hyperion kernel project (@hyperion-kernel)
options:
  poll_interval:
    description:
      - Seconds between two tries while the host is down or not back yet (more than 0, at most 60).
    type: float
    default: 1
  reboot_timeout:
    description:
      - Seconds to wait for the host to come back with a new boot id, and again for O(test_command) to succeed.
    type: int
    default: 600
  connect_timeout:
    description:
      - Seconds one connection attempt may take while waiting; the connection plugin's own timeout when not given.
    type: int
  msg:
    description: The message users on the host see before the reboot.
    type: str
    default: Reboot initiated by Ansible
  pre_reboot_delay:
    description: Seconds before the reboot, given to the shutdown command (whole minutes on Linux).
    type: int
    default: 0
  post_reboot_delay:
    description: Seconds to wait after the reboot command before the host is asked whether it is back.
    type: int
    default: 0
  reboot_command:
    description:
      - The command that reboots the host, with its arguments; a name without a path is looked up in O(search_paths).
        O(msg) and the delays are then not used.
      - The builtin's default is the distribution's shutdown command (C(shutdown -r) on Linux).
    type: str
  search_paths:
    description: Where the shutdown command is looked for on the host (C(PATH) is not used).
    type: list
    elements: str
    default: [/sbin, /bin, /usr/sbin, /usr/bin, /usr/local/sbin]
  boot_time_command:
    description: The command whose output changes with each boot.
    type: str
    default: cat /proc/sys/kernel/random/boot_id
  test_command:
    description: The command that must succeed on the host once it is back.
    type: str
    default: whoami
extends_documentation_fragment:
  - hyperion.kernel.attributes
attributes:
  check_mode:
    support: full
    details: Nothing is rebooted.
  diff_mode:
    support: none
    details: A reboot changes no file.
  platform:
    support: full
    platforms: posix
seealso:
  - module: ansible.builtin.reboot
'''

EXAMPLES = r'''
- name: Reboot and wait, asking the host every second
  hyperion.kernel.reboot:
    reboot_timeout: 900
    msg: Hyperion kernel rollout
'''

RETURN = r'''
rebooted:
  description: Whether the host rebooted.
  returned: always
  type: bool
  sample: true
elapsed:
  description: Seconds from the reboot command until the host answered the test command.
  returned: always
  type: int
  sample: 23
'''
