# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: profile_items
short_description: The items of a resolved Hyperion profile, by item id
version_added: 0.1.0
description:
  - Loads a profile shipped in the collection (or a profile file on the controller), applies site overlays and
    per-host overrides in order, validates the result and returns its items as one mapping of item id to item.
  - Roles read their intended values from here, so the profile stays the one place where they are written down.
author:
  - Hyperion kernel project (@hyperion-kernel)
options:
  _terms:
    description: The profile name or path; V(hyperion-2.2.4) when no term is given.
    type: list
    elements: str
    required: false
  overlays:
    description:
      - Site overlays (names of shipped overlays or paths), applied in order.
      - As with every list option, one string is split on commas, V(gaming_cafe,./site.yml) is the list
        V([gaming_cafe, ./site.yml]).
    type: list
    elements: str
    default: []
  overrides:
    description: Per-host item changes, applied last (see M(hyperion.kernel.profile_check)).
    type: dict
    default: {}
'''

EXAMPLES = r'''
- name: The SysRq mask the lab policy wants
  ansible.builtin.debug:
    msg: "{{ lookup('hyperion.kernel.profile_items', 'hyperion-2.2.4', overlays=['lab'])['sysctl:kernel.sysrq'].value }}"
'''

RETURN = r'''
_raw:
  description: One mapping of item id to the resolved item (C(value) or C(values), C(match), C(severity), C(reason), ...).
  type: list
  elements: dict
'''

import json

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.profile_files import load_resolved


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        names = [term for term in (terms or []) if term] or ['hyperion-2.2.4']
        # Plain JSON types: templated arguments may carry Ansible's wrappers.
        overlays = json.loads(json.dumps(self.get_option('overlays') or []))
        overrides = json.loads(json.dumps(self.get_option('overrides') or {}))
        results = []
        for name in names:
            try:
                resolved = load_resolved(profile=name, overlays=overlays, overrides=overrides,
                                         base_dir=self._loader.get_basedir() if self._loader else None)
            except HyperionError as exc:
                raise AnsibleLookupError('profile error: %s' % exc)
            results.append(dict((item['id'], item) for item in resolved['items']))
        return results
