# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel .config reader.

Reads the text Kconfig writes (/proc/config.gz, /boot/config-<release>,
/usr/lib/modules/<release>/config) into a mapping that keeps the three states a
check has to tell apart: a value (``y``, ``m``, a string, a number), an option
that is present but switched off (``# CONFIG_X is not set``) and an option the
file does not mention at all (its dependencies were unmet, or the source tree
does not know it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import os
import re

from .errors import SourceError


class _NotSet(object):
    """Marker for ``# CONFIG_X is not set``: present in the file, switched off."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super(_NotSet, cls).__new__(cls)
        return cls._instance

    def __repr__(self):
        return 'NOT_SET'

    def __str__(self):
        return 'is not set'


NOT_SET = _NotSet()

_OPTION_RE = re.compile(r'(CONFIG_[A-Za-z0-9_]+)=(.*)')
_NOT_SET_RE = re.compile(r'# (CONFIG_[A-Za-z0-9_]+) is not set')
# Kconfig's header: "# Linux/x86 6.12.57 Kernel Configuration" (older: "# Linux/x86_64 4.19.0 ...").
_HEADER_RE = re.compile(r'^# Linux/\S+ (\d+\.\d+(?:\.\d+)?)\S* Kernel Configuration')


class KernelConfig(object):
    """A parsed kernel configuration.

    ``options`` maps ``CONFIG_NAME`` to its value string (quotes removed for
    strings) or to NOT_SET. A name that is missing from ``options`` is absent.
    """

    def __init__(self, options, source, version=None):
        self.options = options
        self.source = source
        self.version = version

    def get(self, name):
        """The value, NOT_SET, or None when the file does not mention ``name``."""
        return self.options.get(name)

    def is_enabled(self, name):
        return self.options.get(name) in ('y', 'm')

    def to_dict(self):
        """JSON-friendly form: NOT_SET becomes the string 'is not set'."""
        return dict((k, str(v) if v is NOT_SET else v) for k, v in self.options.items())


def _unquote(raw, source, lineno):
    """Undo Kconfig's string quoting: "..." with \\" and \\\\ escapes."""
    if not raw.startswith('"'):
        return raw
    if len(raw) < 2 or not raw.endswith('"'):
        raise SourceError('%s:%d: unterminated string value %s' % (source, lineno, raw))
    body = raw[1:-1]
    out = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == '\\' and i + 1 < len(body):
            out.append(body[i + 1])
            i += 2
            continue
        if char == '"':
            raise SourceError('%s:%d: unescaped quote inside string value %s' % (source, lineno, raw))
        out.append(char)
        i += 1
    return ''.join(out)


def parse_kconfig(text, source='<config>'):
    """Parse .config text. Raises SourceError naming the line of anything malformed."""
    options = {}
    version = None
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.rstrip('\r')
        stripped = line.strip()
        if not stripped:
            continue
        match = _OPTION_RE.fullmatch(stripped)
        if match:
            options[match.group(1)] = _unquote(match.group(2), source, lineno)
            continue
        match = _NOT_SET_RE.fullmatch(stripped)
        if match:
            options[match.group(1)] = NOT_SET
            continue
        if stripped.startswith('#'):
            header = _HEADER_RE.match(stripped)
            if header and version is None:
                version = header.group(1)
            continue
        raise SourceError('%s:%d: not a kernel config line: %r' % (source, lineno, line[:120]))
    if not options:
        raise SourceError('%s: no CONFIG_ options found; is this a kernel config file?' % source)
    return KernelConfig(options, source, version)


def read_config_file(path):
    """Read a plain or gzip-compressed config file."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise SourceError('cannot read kernel config %s: %s' % (path, exc.strerror or exc))
    if data[:2] == b'\x1f\x8b':
        try:
            data = gzip.decompress(data)
        except (IOError, OSError, EOFError) as exc:
            raise SourceError('cannot decompress kernel config %s: %s' % (path, exc))
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise SourceError('kernel config %s is not text (byte %d)' % (path, exc.start))
    return parse_kconfig(text, source=path)


def running_config_candidates(release, root='/'):
    """Where a running kernel's config may be found, best first."""
    paths = ['proc/config.gz']
    if release:
        paths += ['boot/config-%s' % release,
                  'usr/lib/modules/%s/config' % release,
                  'lib/modules/%s/config' % release]
    return [os.path.join(root, p) for p in paths]


def read_running_config(release, root='/'):
    """The running kernel's config from the first readable candidate.

    Returns ``(KernelConfig, tried)``; raises SourceError listing every place
    tried when none can be read.
    """
    tried = []
    for path in running_config_candidates(release, root):
        if not os.path.exists(path):
            tried.append('%s (missing)' % path)
            continue
        try:
            return read_config_file(path), tried
        except SourceError as exc:
            tried.append(str(exc))
    raise SourceError('no readable kernel config for %s; tried: %s' % (release or 'the running kernel', '; '.join(tried)))
