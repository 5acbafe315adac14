# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site's gate checks, validated on the controller before any host changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.gate import checks


def gate_check_problems(value):
    """[] when VALUE is a valid list of site checks, else [the message that names the first bad one]."""
    try:
        checks(value)
    except HyperionError as exc:
        return [str(exc)]
    return []


class FilterModule(object):
    def filters(self):
        return {'gate_check_problems': gate_check_problems}
