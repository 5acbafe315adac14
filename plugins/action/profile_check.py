# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resolve the profile on the controller, then run the module on the host.

Profiles are YAML files in the collection (or the user's), so they are read
here, where PyYAML is, and sent to the host as data. A bad profile, overlay or
override fails here, before anything reaches a host.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.common.validation import check_type_list
from ansible.plugins.action import ActionBase

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.profile_files import load_resolved


def _plain(value):
    """Plain JSON types (task arguments may carry templating wrappers)."""
    return json.loads(json.dumps(value))


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('profile', 'overlays', 'overrides', 'config_path', 'fail_on', 'strict'))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp

        # Ansible itself rejects arguments outside _VALID_ARGS before run() is called.
        args = dict(self._task.args)
        base_dir = self._loader.get_basedir()
        try:
            # The profile is resolved before the module's argument spec sees the task, so the list
            # option's conversion is done here as Ansible does it: "gaming_cafe,lab" (the ad-hoc
            # command line's form) is split on commas.
            overlays = check_type_list(_plain(args.get('overlays') or []))
        except TypeError:
            result.update(failed=True, msg='profile error: overlays must be a list of names or paths, or one '
                                           'string of them separated by commas, got %r' % (args.get('overlays'),))
            return result
        try:
            resolved = load_resolved(
                profile=args.get('profile') or 'hyperion-2.2.4',
                overlays=overlays,
                overrides=_plain(args.get('overrides') or {}),
                base_dir=base_dir,
            )
        except HyperionError as exc:
            result.update(failed=True, msg='profile error: %s' % exc)
            return result

        module_args = dict(args)
        module_args['resolved_profile'] = resolved
        result.update(self._execute_module(module_name='hyperion.kernel.profile_check',
                                           module_args=module_args, task_vars=task_vars))
        return result
