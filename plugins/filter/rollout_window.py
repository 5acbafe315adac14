# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollout's maintenance window on the controller's clock."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.window import state


def maintenance_window(window, now):
    """Whether NOW (HH:MM) is inside WINDOW (HH:MM-HH:MM, empty: none), and the minutes it still lasts."""
    try:
        return state(window, now)
    except HyperionError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {'maintenance_window': maintenance_window}
