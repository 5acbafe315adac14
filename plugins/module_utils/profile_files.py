# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find and load profile and overlay files (controller side).

Used by the profile_check action plugin and the hyperion-check command. A name
(``hyperion-2.2.4``, ``gaming_cafe``) is looked up in the collection's
``profiles/`` directory; anything that looks like a path is read as given.
YAML needs PyYAML, which every Ansible controller has; it is imported only
when a YAML file is read, so hosts never need it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from .errors import ProfileError
from .profile import resolve_profile
from .validation import require

PROFILE_SUFFIXES = ('.yml', '.yaml', '.json')


def collection_root():
    """The collection's top directory (plugins/module_utils/../..)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def profiles_dir():
    return os.path.join(collection_root(), 'profiles')


def _looks_like_path(text):
    return os.sep in text or text.endswith(PROFILE_SUFFIXES)


def available(kind):
    """Names of the shipped profiles ('profile') or overlays ('overlay')."""
    directory = profiles_dir() if kind == 'profile' else os.path.join(profiles_dir(), 'overlays')
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(os.path.splitext(n)[0] for n in names if n.endswith(PROFILE_SUFFIXES))


def locate(name, kind, base_dir=None):
    """The file behind a profile/overlay name or path; ProfileError naming the choices."""
    if not isinstance(name, str) or not name:
        raise ProfileError('%s must be a name or a path, got %r' % (kind, name))
    if _looks_like_path(name):
        path = name if os.path.isabs(name) or base_dir is None else os.path.join(base_dir, name)
        if not os.path.isfile(path):
            raise ProfileError('%s file %s does not exist' % (kind, path))
        return path
    # A name is one file name in the collection's profiles: the whole of it, so "lab " or a name
    # split from "gaming_cafe,,lab" is refused as what it is rather than looked up.
    require('file_name', name, '%s name' % kind)
    directory = profiles_dir() if kind == 'profile' else os.path.join(profiles_dir(), 'overlays')
    for suffix in PROFILE_SUFFIXES:
        path = os.path.join(directory, name + suffix)
        if os.path.isfile(path):
            return path
    raise ProfileError('unknown %s %r; shipped: %s (or give a path to a YAML/JSON file)'
                       % (kind, name, ', '.join(available(kind)) or 'none'))


def load_data(path):
    """A YAML or JSON mapping from a file, with the file named in any error."""
    try:
        with open(path) as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        raise ProfileError('cannot read %s: %s' % (path, exc.strerror or exc))
    if path.endswith('.json'):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ProfileError('%s is not valid JSON: %s' % (path, exc))
    else:
        try:
            import yaml  # pylint: disable=import-outside-toplevel
        except ImportError:
            raise ProfileError('reading %s needs PyYAML (pip install PyYAML), or give the profile as JSON' % path)
        # The C loader (libyaml) when PyYAML has it: resolving the profile for every host of a
        # large fleet is the controller's biggest cost in an audit (see workbench/bench/README.md).
        loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
        try:
            data = yaml.load(text, Loader=loader)  # nosec B506 - a safe loader either way
        except yaml.YAMLError as exc:
            raise ProfileError('%s is not valid YAML: %s' % (path, exc))
    if not isinstance(data, dict):
        raise ProfileError('%s must contain a mapping at the top level' % path)
    return data


def load_resolved(profile='hyperion-2.2.4', overlays=(), overrides=None, base_dir=None):
    """Locate, load and resolve a profile with its overlays and overrides."""
    if overlays is None:
        overlays = []
    if not isinstance(overlays, (list, tuple)):
        raise ProfileError('overlays must be a list of names or paths, got %r' % (overlays,))
    base = load_data(locate(profile, 'profile', base_dir))
    layers = []
    for overlay in overlays:
        data = load_data(locate(overlay, 'overlay', base_dir))
        data.setdefault('name', overlay)
        layers.append(data)
    if overrides is not None and not isinstance(overrides, dict):
        raise ProfileError('overrides must be a mapping of item id to changes, got %s' % type(overrides).__name__)
    return resolve_profile(base, layers, overrides)
