#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: kernel_facts
short_description: Gather a host's running kernel state in one call
version_added: 0.1.0
description:
  - Reads the running kernel's state as facts under C(ansible_facts.hyperion_kernel) in one module call,
    the same state M(hyperion.kernel.profile_check) compares with a profile.
  - "Subsets: C(kernel) (release), C(config) (where the kernel config was read, its version and, filtered,
    its options), C(cmdline) (C(/proc/cmdline) parsed with the kernel's own rules, and the parameter that turns
    C(sysrq_always_enabled) on, matched as the kernel matches it), C(sysctl), C(modparams),
    C(zram) (devices, algorithms, recompression, C(mm_stat), C(/proc/swaps), MemTotal and MemAvailable), C(network) (C(tc -j qdisc show)
    normalised, root qdisc per interface, default route interfaces), C(block) (I/O scheduler per device and
    device class), C(bore) (BORE sysctls of either patch generation), C(tracing) (ftrace tracers, dynamic
    debug control), C(thp) and C(tty) (whether each tty of O(ttys) exists under C(/sys/class/tty), and its UART
    type: 0 is C(PORT_UNKNOWN), a serial port name with no UART behind it) and C(sched) (the preemption mode and the
    modes offered, the scheduler features from debugfs, which only root can read, and sched_ext's state and loaded
    BPF scheduler)."
  - A source that cannot be read is listed in C(errors) and leaves its part empty; the module only fails on bad arguments.
author:
  - Hyperion kernel project (@hyperion-kernel)
options:
  gather_subset:
    description:
      - Which parts to gather. V(all) gathers every part.
    type: list
    elements: str
    choices: [all, kernel, config, cmdline, sysctl, modparams, zram, network, block, bore, tracing, thp, tty, sched]
    default: [all]
  config_filter:
    description:
      - Regular expressions; kernel config options whose name matches one of them are returned in
        C(config.options). Empty returns no options (the full config has thousands), only its source and count.
    type: list
    elements: str
    default: []
  sysctls:
    description:
      - Sysctl keys to read in addition to the standard set (C(kernel.sysrq), congestion control,
        C(net.core.default_qdisc), BORE).
    type: list
    elements: str
    default: []
  modparams:
    description:
      - Module parameters (C(module.parameter)) to read in addition to C(zswap.enabled), C(zswap.compressor)
        and C(kgdboc.kgdboc).
    type: list
    elements: str
    default: []
  ttys:
    description:
      - The ttys the C(tty) subset reads, by their names under C(/sys/class/tty) (V(ttyS0)); one path component
        each, or the module fails before it reads anything.
    type: list
    elements: str
    default: []
  config_path:
    description:
      - Read the kernel config from this file on the host instead of the running kernel's, for example
        C(/boot/config-RELEASE) of a kernel installed but not yet booted. Only the C(config) subset changes.
    type: path
extends_documentation_fragment:
  - hyperion.kernel.attributes
  - hyperion.kernel.attributes.read_only
attributes:
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
    support: full
seealso:
  - module: hyperion.kernel.profile_check
'''

EXAMPLES = r'''
- name: Gather zram and qdisc state only
  hyperion.kernel.kernel_facts:
    gather_subset: [zram, network]

- name: Gather everything, with the scheduler-related config options
  hyperion.kernel.kernel_facts:
    config_filter: ['^CONFIG_SCHED_', '^CONFIG_PREEMPT']

- name: Read the target kernel's KGDB options and the serial port kgdboc would use, in one call
  hyperion.kernel.kernel_facts:
    gather_subset: [config, tty]
    config_filter: ['^CONFIG_KGDB', '^CONFIG_KDB']
    ttys: [ttyS0]
  register: kgdb_facts

- name: Show the recompression algorithm of zram0
  ansible.builtin.debug:
    msg: "{{ ansible_facts.hyperion_kernel.zram.devices.zram0.recomp_algorithms | default('none') }}"
'''

RETURN = r'''
ansible_facts:
  description: Facts gathered.
  returned: always
  type: dict
  contains:
    hyperion_kernel:
      description: The running kernel state; each subset is a key of this dictionary, plus C(errors).
      returned: always
      type: dict
      sample:
        kernel: {"release": "6.12.57+deb13-amd64", "version": "6.12.57"}
        cmdline: {"raw": "BOOT_IMAGE=/vmlinuz root=/dev/vda1 kgdboc=ttyS0,115200", "params": {"kgdboc": "ttyS0,115200"}, "init_args": [],
                  "sysrq_always_enabled": null}
        zram: {"devices": {"zram0": {"comp_algorithm": "zstd", "disksize": 536870912, "swap_priority": 100}},
               "swaps": [], "zram_swap_active": true, "mem_total_kib": 1001234,
               "mem_available_kib": 612345}
        tty: {"ttyS0": {"exists": true, "uart_type": 4}, "ttyS1": {"exists": true, "uart_type": 0}}
        sched: {"preempt": {"mode": "full", "modes": ["none", "voluntary", "full"]},
                "features": {"HRTICK": false, "PLACE_LAG": true}, "sched_ext": {"state": "disabled", "ops": null}}
        errors: []
'''

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import SUBSETS, gather_facts, module_command_runner
from ansible_collections.hyperion.kernel.plugins.module_utils.validation import is_valid


def main():
    module = AnsibleModule(
        argument_spec=dict(
            gather_subset=dict(type='list', elements='str', default=['all'], choices=['all'] + list(SUBSETS)),
            config_filter=dict(type='list', elements='str', default=[]),
            sysctls=dict(type='list', elements='str', default=[]),
            modparams=dict(type='list', elements='str', default=[]),
            config_path=dict(type='path'),
            ttys=dict(type='list', elements='str', default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    patterns = []
    for text in params['config_filter']:
        try:
            patterns.append(re.compile(text))
        except re.error as exc:
            module.fail_json(msg='config_filter %r is not a valid regular expression: %s' % (text, exc))
    for name in params['ttys']:
        if not is_valid('tty_name', name):
            module.fail_json(msg='ttys entry %r must be a tty name such as ttyS0 (letters, digits and "_")' % (name,))
    for name in params['modparams']:
        if '.' not in name:
            module.fail_json(msg='modparams entry %r must be module.parameter (for example zswap.enabled)' % name)
    subsets = None if 'all' in params['gather_subset'] else params['gather_subset']
    try:
        facts = gather_facts('/', module_command_runner(module), subsets=subsets,
                             sysctls=params['sysctls'], modparams=params['modparams'],
                             config_path=params['config_path'], ttys=params['ttys'])
    except HyperionError as exc:
        module.fail_json(msg=str(exc))

    config = facts.get('config')
    if config and config.get('options') is not None:
        options = config['options']
        config['option_count'] = len(options)
        config['options'] = dict((k, v) for k, v in options.items() if any(p.search(k) for p in patterns))
    module.exit_json(changed=False, ansible_facts=dict(hyperion_kernel=facts))


if __name__ == '__main__':
    main()
