# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the test kernel of `make kernel-package` is, and what the build recorded about it.

The build role writes result.json next to the packages (release, cache key, source, package
paths) and `latest` points at the newest build. The demo inventory, the molecule scenarios and
the benchmarks all read the test kernel through here, so the cache layout is written down once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.hyperion.kernel.plugins.module_utils.convergence import file_digest
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import SourceError

RESULT_FILE = 'result.json'
HOW_TO_BUILD = 'run `make kernel-package` to build the test kernel'


def cache_dir(environ):
    """The shared cache of heavy artifacts, as the Makefile sets it (HYPERION_CACHE wins)."""
    if environ.get('HYPERION_CACHE'):
        return environ['HYPERION_CACHE']
    base = environ.get('XDG_CACHE_HOME') or os.path.join(environ.get('HOME') or os.path.expanduser('~'), '.cache')
    return os.path.join(base, 'hyperion-kernel')


def package_dir(environ):
    """The directory of the test kernel's packages: HYPERION_KERNEL_PACKAGE_DIR, else the cache's latest build."""
    if environ.get('HYPERION_KERNEL_PACKAGE_DIR'):
        return os.path.expanduser(environ['HYPERION_KERNEL_PACKAGE_DIR'])
    return os.path.join(cache_dir(environ), 'kernel-package', 'latest')


# A playbook templates the lookup once per host and task: the image (15 MB) is hashed once per
# process and file version.
_SHA256_SEEN = {}


def _sha256(path):
    stat = os.stat(path)
    version = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns)
    if version not in _SHA256_SEEN:
        _SHA256_SEEN[version] = file_digest(path)
    return _SHA256_SEEN[version]


def read_build_result(directory):
    """The build's record in directory, with package paths found in directory itself.

    The recorded paths are absolute paths of the machine that built; the packages are looked up by
    name next to result.json, so a cache that was moved or mounted elsewhere still works.
    """
    path = os.path.join(directory, RESULT_FILE)
    try:
        with open(path) as handle:
            recorded = json.load(handle)
    except (IOError, OSError) as exc:
        raise SourceError('no test kernel build in %s (%s): %s' % (directory, exc.strerror or exc, HOW_TO_BUILD))
    except ValueError as exc:
        raise SourceError('%s is not JSON (%s): %s' % (path, exc, HOW_TO_BUILD))
    if not isinstance(recorded, dict) or not recorded.get('kernel_release') or not isinstance(recorded.get('packages'), list):
        raise SourceError('%s has no kernel_release and packages list: %s' % (path, HOW_TO_BUILD))
    packages = []
    for recorded_path in recorded['packages']:
        local = os.path.join(directory, os.path.basename(str(recorded_path)))
        if not os.path.isfile(local):
            raise SourceError('%s lists %s, which is not in %s: %s' % (path, os.path.basename(str(recorded_path)), directory, HOW_TO_BUILD))
        packages.append(local)
    images = [p for p in packages if os.path.basename(p).startswith('linux-image-')]
    if len(images) != 1:
        raise SourceError('%s lists %d linux-image packages, expected one' % (path, len(images)))
    accepted = dict((str(item), str(reason)) for item, reason in (recorded.get('accepted_missing') or {}).items())
    return {
        'package_dir': directory,
        'release': recorded['kernel_release'],
        'key': recorded.get('key'),
        'source': recorded.get('source'),
        'packages': packages,
        'image': images[0],
        'image_sha256': _sha256(images[0]),
        'patches': [str(name) for name in recorded.get('patches') or []],
        'accepted_missing': accepted,
        # What a check of this kernel skips, in the form of profile overrides.
        'profile_skips': dict((item, {'skip': reason}) for item, reason in accepted.items()),
    }
