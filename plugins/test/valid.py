# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja tests of the roles' input checks: the full-match kinds of module_utils/validation.py.

A role's assert says ``x is hyperion.kernel.valid('mac')`` and so checks exactly what the
modules check, with the same pattern matched against the whole value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.hyperion.kernel.plugins.module_utils import validation


def valid(value, kind):
    """True when VALUE is a string of KIND (file_name, grub_dropin, mac, ...), matched as a whole."""
    try:
        return validation.is_valid(kind, value)
    except validation.ValidationError as exc:
        raise AnsibleFilterError(str(exc))


def single_line(value):
    """True when VALUE is a string without newlines or other control characters."""
    try:
        validation.single_line(value, 'value')
    except validation.ValidationError:
        return False
    return True


class TestModule(object):
    def tests(self):
        return {'valid': valid, 'single_line': single_line}
