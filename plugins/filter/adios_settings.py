# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: adios_settings
version_added: 0.1.0
short_description: ADIOS I/O scheduler tunables checked against the bounds the ADIOS patch enforces
description:
  - Takes a mapping of ADIOS attributes (the files of C(/sys/block/<disk>/queue/iosched/) while a disk runs ADIOS) to
    values and returns them as a list of C(key), C(value) pairs sorted by attribute, each value a whole number within
    the bounds the ADIOS 3.3.0 patch's store function accepts for that attribute.
  - "Attributes and bounds: C(lat_target_read), C(lat_target_write), C(lat_target_discard) (ns, 0 or more),
    C(batch_limit_read), C(batch_limit_write), C(batch_limit_discard) (1 to 4294967295), C(global_latency_window)
    (ns, 0 or more), C(bq_refill_below_ratio) (0-100), C(lat_model_latency_limit) (0-2000000000 ns),
    C(read_priority) (-20 to 19), C(shrink_at_kreqs) (1-100000), C(shrink_at_gbytes) (1-1000), C(shrink_resist) (1-3)."
  - An attribute ADIOS does not have (or that is not a setting, such as C(batch_order) or the C(reset_*) triggers), a
    value that is not a whole number (booleans included) or one outside the bounds fails with a message naming the
    attribute, so a bad value is refused before anything is written; so does an input that is no mapping.
positional: _input
options:
  _input:
    description: ADIOS attribute to value.
    type: dict
    required: true
author:
  - Hyperion kernel project (@hyperion-kernel)
'''

EXAMPLES = r'''
- name: Check the ADIOS settings before anything changes
  ansible.builtin.set_fact:
    adios_checked: "{{ {'read_priority': -5, 'bq_refill_below_ratio': 15} | hyperion.kernel.adios_settings }}"
# => [{'key': 'bq_refill_below_ratio', 'value': 15}, {'key': 'read_priority', 'value': -5}]
'''

RETURN = r'''
_value:
  description: The settings, sorted by attribute.
  type: list
  elements: dict
  contains:
    key:
      description: The attribute.
      type: str
    value:
      description: The value, a whole number within ADIOS's bounds for the attribute.
      type: int
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.hyperion.kernel.plugins.module_utils.adios import adios_settings as check_settings
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError


def adios_settings(settings):
    """The ADIOS settings as [{'key', 'value'}], each within the bounds the ADIOS patch enforces."""
    try:
        return [{'key': key, 'value': value} for key, value in check_settings(settings)]
    except HyperionError as exc:
        raise AnsibleFilterError('tuning_adios: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'adios_settings': adios_settings}
