# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fingerprint of a deploy pass: its inputs and the collection code that acts on them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleFilterError

from ansible_collections.hyperion.kernel.plugins.module_utils.convergence import fingerprint, tree_digest

# Everything in the collection that decides what a deploy pass does to a host.
_CODE_DIRS = ('playbooks', 'plugins', 'profiles', 'roles')
_COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_code_digests = {}


def collection_code_digest(root=_COLLECTION_ROOT):
    """sha256 over the collection's playbooks, plugins, profiles and roles (computed once per process)."""
    if root not in _code_digests:
        _code_digests[root] = tree_digest(root, [d for d in _CODE_DIRS if os.path.isdir(os.path.join(root, d))])
    return _code_digests[root]


def deploy_fingerprint(inputs):
    """sha256 (hex) of INPUTS, a mapping of variable names to values, together with the collection's code."""
    if not isinstance(inputs, dict):
        raise AnsibleFilterError('deploy_fingerprint takes a mapping of variable names to values, got %s'
                                 % type(inputs).__name__)
    try:
        return fingerprint(inputs, collection_code_digest())
    except (IOError, OSError) as exc:
        raise AnsibleFilterError('the collection code cannot be read for the fingerprint: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'deploy_fingerprint': deploy_fingerprint}
