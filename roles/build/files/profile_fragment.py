# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print the resolved profile's Kconfig fragment and item ids as JSON (run on the controller).

The build role runs this with the controller's Python so the fragment comes from the same
resolved profile (profile + overlays + overrides) that profile_check checks the .config with.
Input on stdin: {"profile": ..., "overlays": [...], "overrides": {...}, "base_dir": ...}.
Usage: python3 profile_fragment.py ROLE_PATH < request.json
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys


def collections_root(role_path):
    """The directory holding ansible_collections/, found above the role (symlinks kept as given)."""
    path = os.path.abspath(role_path)
    while path != os.path.dirname(path):
        if os.path.basename(path) == 'ansible_collections':
            return os.path.dirname(path)
        path = os.path.dirname(path)
    raise SystemExit('profile_fragment.py: %s is not inside an ansible_collections tree' % role_path)


def main():
    if len(sys.argv) != 2:
        raise SystemExit('usage: profile_fragment.py ROLE_PATH < request.json')
    sys.path.insert(0, collections_root(sys.argv[1]))
    # pylint: disable=import-outside-toplevel  # importable only once the path above is known
    from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
    from ansible_collections.hyperion.kernel.plugins.module_utils.fragment import render_fragment
    from ansible_collections.hyperion.kernel.plugins.module_utils.profile_files import load_resolved

    request = json.load(sys.stdin)
    try:
        resolved = load_resolved(profile=request.get('profile') or 'hyperion-2.2.4',
                                 overlays=request.get('overlays') or [],
                                 overrides=request.get('overrides') or {},
                                 base_dir=request.get('base_dir'))
    except HyperionError as exc:
        raise SystemExit('profile error: %s' % exc)
    json.dump({'fragment': render_fragment(resolved),
               'item_ids': [item['id'] for item in resolved['items']]}, sys.stdout)


if __name__ == '__main__':
    main()
