# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: bore_sysctl_settings
version_added: 0.1.0
short_description: BORE sysctl settings checked against the ranges the BORE patch defines
description:
  - Takes a mapping of BORE sysctl keys to values and returns them as a list of C(key), C(value) pairs sorted by
    key, each value a whole number within the range the BORE 6.x patch registers for that sysctl
    (C(kernel.sched_bore) 0-1, C(kernel.sched_burst_inherit_type) 0-2, C(kernel.sched_burst_smoothness) 0-3,
    C(kernel.sched_burst_penalty_offset) 0-63, C(kernel.sched_burst_penalty_scale) 0-4095).
  - A key BORE does not have, a value that is not a whole number (booleans included) or one outside the range fails
    with a message naming the key, so a bad value is refused before anything is written; so does an input that is no
    mapping.
positional: _input
options:
  _input:
    description: BORE sysctl keys and their values (numbers or strings of digits).
    type: dict
    required: true
author:
  - Hyperion kernel project (@hyperion-kernel)
'''

EXAMPLES = r'''
# The tuning role checks what it will write before it reads or changes anything.
- name: Check BORE's settings against the ranges of the BORE patch
  ansible.builtin.set_fact:
    __tuning_bore_settings: >-
      {{ {'kernel.sched_bore': __tuning_bore_wanted.enabled,
          'kernel.sched_burst_smoothness': __tuning_bore_wanted.burst_smoothness} | hyperion.kernel.bore_sysctl_settings }}

- name: Write BORE's settings for the next boot
  ansible.builtin.copy:
    dest: /etc/sysctl.d/90-bore.conf
    content: |
      {% for setting in {'kernel.sched_bore': 1, 'kernel.sched_burst_smoothness': 2} | hyperion.kernel.bore_sysctl_settings %}
      -{{ setting.key }} = {{ setting.value }}
      {% endfor %}
    mode: "0644"
'''

RETURN = r'''
_value:
  description: The settings, sorted by key.
  type: list
  elements: dict
  contains:
    key:
      description: The sysctl key.
      type: str
    value:
      description: The value, a whole number within BORE's range for the key.
      type: int
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.hyperion.kernel.plugins.module_utils.bore import bore_sysctl_settings as check_settings
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError


def bore_sysctl_settings(settings):
    """The BORE settings as [{'key', 'value'}], each within the range the BORE patch defines."""
    try:
        return [{'key': key, 'value': value} for key, value in check_settings(settings)]
    except HyperionError as exc:
        raise AnsibleFilterError('BORE settings: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'bore_sysctl_settings': bore_sysctl_settings}
