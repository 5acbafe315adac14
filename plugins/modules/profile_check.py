#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: profile_check
short_description: Check a host's running kernel (or a kernel config file) against a Hyperion profile
version_added: 0.1.0
description:
  - Compares the running kernel of a host with a kernel profile, item by item, in one call
    (one round trip per host). Items cover the kernel config (C(/proc/config.gz), C(/boot/config-*),
    C(/usr/lib/modules/*/config)), C(/proc/cmdline), sysctls, module parameters, zram, swap,
    qdiscs (C(tc -j qdisc show)), I/O schedulers, the BORE scheduler, ftrace tracers and THP.
  - The profile is resolved on the controller from the profile, O(overlays) and O(overrides),
    validated, and sent to the host as data; the host needs only Python's standard library and its own tools.
  - Every item is returned with its status (C(pass), C(fail), C(not_applicable), C(unknown)), the expected
    and the actual value and the reason it is in the profile.
  - With O(config_path), only the config items are checked, against that file on the host
    (a kernel built but never booted). A O(config_path) that is missing, a directory or not a kernel config fails
    the task.
  - A check that could read nothing (no item passed or failed, some unknown) fails under every O(fail_on).
  - The module changes nothing on the host.
author:
  - Hyperion kernel project (@hyperion-kernel)
options:
  profile:
    description:
      - Name of a profile shipped in the collection's C(profiles/) directory, or a path (on the controller)
        to a YAML or JSON profile file.
    type: str
    default: hyperion-2.2.4
  overlays:
    description:
      - Site overlays applied in order on top of the profile; names of shipped overlays (C(lab), C(gaming_cafe))
        or paths to YAML/JSON overlay files on the controller.
      - As with every list option, one string is split on commas, so C(overlays=gaming_cafe,./site.yml) on the
        ad-hoc command line is the list V([gaming_cafe, ./site.yml]). A path with a comma in it needs the list form.
      - A name must be a whole file name of letters, digits, C(_), C(.), C(+) and C(-) (no spaces); anything with a
        C(/) or ending in C(.yml), C(.yaml) or C(.json) is a path, relative to the playbook's directory.
    type: list
    elements: str
    default: []
  overrides:
    description:
      - 'Per-host changes applied last, as a mapping of item id to a partial item (for example
        C({"sysctl:kernel.sysrq": {"value": 176}})) or to a plain value (shorthand for an exact match).'
      - 'C({"CONFIG_SCHED_BORE": {"skip": "vendor kernel without BORE"}}) reports an item as not applicable.'
      - 'An id the profile (with its overlays) does not have is an error that names the close matches, so a misspelt id
        never becomes an item of its own. A new item is added only by a complete definition that says so,
        C({"sysctl:vm.swappiness": {"add": true, "value": 180, "match": "exact", "severity": "recommended",
        "reason": "..."}}); overlays add items the same way.'
    type: dict
    default: {}
  config_path:
    description:
      - Check this kernel config file on the host instead of the running kernel. Only C(CONFIG_*) items are
        evaluated; runtime items are reported as not applicable.
    type: path
  fail_on:
    description:
      - Which drift fails the task. V(required) fails on a failed required item, V(recommended) on any failed
        item, V(never) only reports.
    type: str
    choices: [required, recommended, never]
    default: required
  strict:
    description:
      - Also fail when a required item is C(unknown) (its source could not be read).
    type: bool
    default: false
  resolved_profile:
    description:
      - The resolved profile as data. Set by the action plugin from O(profile), O(overlays) and O(overrides);
        do not set it by hand.
    type: dict
extends_documentation_fragment:
  - hyperion.kernel.attributes
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs unchanged in check mode.
  diff_mode:
    support: full
    details: Shows each failed item as the host has it (before) and as the profile wants it (after).
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
  platform:
    support: full
    platforms: posix
notes:
  - Reading some sources needs root (tracefs, some sysfs files); an unreadable source makes its items C(unknown).
seealso:
  - module: hyperion.kernel.kernel_facts
'''

EXAMPLES = r'''
# The same check ad hoc, with the gaming cafe policy and a site overlay file:
#   ansible cafe -m hyperion.kernel.profile_check -a 'overlays=gaming_cafe,./site.yml fail_on=never'
- name: Audit a host against Hyperion 2.2.4 with the gaming cafe policy
  hyperion.kernel.profile_check:
    profile: hyperion-2.2.4
    overlays: [gaming_cafe]

- name: Report only, never fail, with a per-host exception from inventory
  hyperion.kernel.profile_check:
    overlays: "{{ hyperion_profile_overlays | default([]) }}"
    overrides:
      "qdisc:@default_route:root": taprio
    fail_on: never
  register: audit

- name: Check a freshly built kernel config before it is ever booted
  hyperion.kernel.profile_check:
    config_path: /usr/src/linux/.config
'''

RETURN = r'''
compliant:
  description: Whether the host passes under O(fail_on) and O(strict).
  returned: always
  type: bool
  sample: false
profile:
  description: Name of the profile checked and the overlays applied, in order.
  returned: always
  type: dict
  sample: {"name": "hyperion-2.2.4", "overlays": ["gaming_cafe"]}
kernel_release:
  description: The running kernel release (C(uname -r)).
  returned: always
  type: str
  sample: 6.19.6-Hyperion-2.2.4
config_source:
  description: The file the kernel config was read from, or null when none could be read.
  returned: always
  type: str
  sample: /proc/config.gz
items:
  description: One result per profile item.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The item id, which names what is checked.
      type: str
      sample: zram:zram0:recomp_algorithm
    status:
      description: C(pass), C(fail), C(not_applicable) or C(unknown).
      type: str
      sample: fail
    severity:
      description: C(required) or C(recommended).
      type: str
    expected:
      description: What the profile wants, in words.
      type: str
      sample: lz4hc
    actual:
      description: What the host has; null when not set or not read.
      type: str
      sample: lz4
    reason:
      description: Why the item is in the profile.
      type: str
    detail:
      description: Extra context (why not applicable or unknown, devices involved).
      type: str
      returned: when there is any
    seed_name:
      description: The name the release notes use when it differs from the real interface.
      type: str
      returned: when the item maps a release-notes name
summary:
  description: Counts per status and the ids of failed and unknown required items.
  returned: always
  type: dict
  sample: {"counts": {"pass": 90, "fail": 3, "not_applicable": 10, "unknown": 0}, "total": 103,
           "failed_required": ["CONFIG_SCHED_BORE"], "failed_recommended": [], "unknown_required": []}
errors:
  description: Sources that could not be read, with the reason.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperion.kernel.plugins.module_utils.check import evaluate, require_config, verdict
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.facts import gather_facts, module_command_runner
from ansible_collections.hyperion.kernel.plugins.module_utils.profile import resolve_profile, wanted_sources
from ansible_collections.hyperion.kernel.plugins.module_utils.report import drift_lines


def main():
    module = AnsibleModule(
        argument_spec=dict(
            profile=dict(type='str', default='hyperion-2.2.4'),
            overlays=dict(type='list', elements='str', default=[]),
            overrides=dict(type='dict', default={}),
            config_path=dict(type='path'),
            fail_on=dict(type='str', choices=['required', 'recommended', 'never'], default='required'),
            strict=dict(type='bool', default=False),
            resolved_profile=dict(type='dict'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not params['resolved_profile']:
        module.fail_json(msg='resolved_profile is missing: run this module through its action plugin '
                             '(hyperion.kernel.profile_check), which resolves profile, overlays and overrides')
    try:
        # Validate again on the host: the data may come from anywhere.
        profile = resolve_profile(params['resolved_profile'])
        sysctls, modparams = wanted_sources(profile)
        config_only = bool(params['config_path'])
        facts = gather_facts('/', module_command_runner(module), sysctls=sysctls, modparams=modparams,
                             subsets=['config'] if config_only else None, config_path=params['config_path'])
        if config_only:
            require_config(facts, params['config_path'])
        results, summary = evaluate(profile, facts, config_only=config_only)
        compliant, message = verdict(summary, params['fail_on'], params['strict'])
    except HyperionError as exc:
        module.fail_json(msg=str(exc))

    result = dict(
        changed=False,
        compliant=compliant,
        msg=message,
        profile=dict(name=profile['name'], overlays=profile.get('overlays', [])),
        kernel_release=facts['kernel']['release'],
        config_source=(facts.get('config') or {}).get('source'),
        items=results,
        summary=summary,
        errors=facts['errors'],
    )
    if module._diff:
        before, after = drift_lines(results)
        result['diff'] = dict(before=before, after=after,
                              before_header='%s (host)' % (facts['kernel']['release'] or 'host'),
                              after_header='%s (profile)' % profile['name'])
    if not compliant:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
