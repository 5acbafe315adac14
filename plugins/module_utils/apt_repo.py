# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A package fetched from a signed apt repository through a private apt state, before the host's apt changes.

The kernel role tries a site's repository with a state of its own (source, key, lists and cache under its
work directory): an unsigned or wrongly signed repository, one that cannot be reached and a package the
repository does not have are each refused with their own message, and the host's apt configuration has
not been touched. This module holds what that takes, without running anything: apt's options for the
private state, the private source, the reading of apt's answers and the messages. The module
``hyperion.kernel.apt_repo_fetch`` runs apt with them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from .validation import ValidationError, require

# The private state, relative to the work directory.
SOURCE_PARTS = 'apt-check/sources.list.d'
SOURCE_FILE = 'apt-check/sources.list.d/check.sources'
KEY_FILE = 'apt-check/key.asc'
LISTS_DIR = 'apt-check/lists'
CACHE_DIR = 'apt-check/cache'
PACKAGES_DIR = 'packages'
DIRECTORIES = (SOURCE_PARTS, LISTS_DIR + '/partial', CACHE_DIR + '/archives/partial', PACKAGES_DIR)

# What apt says when the network, not the repository, is the trouble: asked again, then refused as unreachable.
NETWORK_ERRORS = ('Could not connect to', 'Unable to connect to', 'Could not resolve', 'Temporary failure resolving',
                  'Connection failed', 'Connection timed out', 'No route to host', 'Network is unreachable')
NETWORK_ERROR_RE = re.compile('|'.join(re.escape(text) for text in NETWORK_ERRORS))
# apt's warnings and errors start their line with "W:" or "E:"; a signature problem is one of them.
PROBLEM_LINE_RE = re.compile(r'[WE]:.*')
OK, UNREACHABLE, UNTRUSTED = 'ok', 'unreachable', 'untrusted'


def validate(url, suite, component, package):
    """The problems of the repository's coordinates, one message each (the kinds of validation.py, full matches)."""
    problems = []
    for kind, value, what in (('apt_url', url, 'url'), ('apt_word', suite, 'suite'), ('apt_word', component, 'component'),
                              ('deb_package_name', package, 'package')):
        try:
            require(kind, value, what)
        except ValidationError as exc:
            problems.append(str(exc))
    return problems


def private_options(work_dir):
    """apt's -o options that make apt-get and apt-cache use the private state only."""
    return [
        '-o', 'Dir::Etc::SourceList=/dev/null',
        '-o', 'Dir::Etc::SourceParts=' + os.path.join(work_dir, SOURCE_PARTS),
        '-o', 'Dir::State::Lists=' + os.path.join(work_dir, LISTS_DIR),
        '-o', 'Dir::Cache=' + os.path.join(work_dir, CACHE_DIR),
        # The private directories belong to root (0700); without this apt warns that _apt cannot write them.
        '-o', 'APT::Sandbox::User=root',
    ]


def check_source(url, suite, component, key_path):
    """The private deb822 source: the repository, trusted with the given key only."""
    return 'Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\nSigned-By: %s\n' % (url, suite, component, key_path)


def problem_lines(stderr):
    """apt's W: and E: lines, in order."""
    return [line.strip() for line in (stderr or '').splitlines() if PROBLEM_LINE_RE.fullmatch(line.strip())]


def update_verdict(rc, stderr):
    """What `apt-get update` of the private state says about the repository: OK, UNREACHABLE or UNTRUSTED.

    A network error anywhere in its output makes it UNREACHABLE (asked again; a bad signature will not get
    better and is not). Any other W: or E: line, or a failure, is UNTRUSTED: apt reports a missing or
    wrong signature as a warning and drops the repository's index.
    """
    if NETWORK_ERROR_RE.search(stderr or ''):
        return UNREACHABLE
    if rc != 0 or problem_lines(stderr):
        return UNTRUSTED
    return OK


def apt_detail(stderr):
    """apt's own words for a message: its W: and E: lines, or its whole output when it has none."""
    return ' '.join(problem_lines(stderr)) or (stderr or '').strip()


def unreachable_message(url, suite, attempts, stderr):
    return ('The repository %s (%s) cannot be reached (asked %d times), refused before any change: %s'
            % (url, suite, attempts, apt_detail(stderr)))


def untrusted_message(url, suite, stderr):
    return ('The repository %s (%s) cannot be trusted with the key in kernel_repo_key, refused before any change: %s'
            % (url, suite, apt_detail(stderr)))


def parse_stanza(text):
    """The fields of the first stanza of `apt-cache show` (continuation lines dropped)."""
    fields = {}
    for line in (text or '').splitlines():
        if not line.strip():
            if fields:
                break
            continue
        if line[0] in ' \t':
            continue
        name, sep, value = line.partition(':')
        if sep:
            fields.setdefault(name.strip(), value.strip())
    return fields


def listed_packages(index_texts):
    """The package names of Packages indexes (or `apt-cache dumpavail`), sorted and without repeats."""
    names = set()
    for text in index_texts:
        for line in text.splitlines():
            if line.startswith('Package:'):
                names.add(line[len('Package:'):].strip())
    return sorted(names)


def missing_package_message(url, suite, component, package, names):
    return ('The repository %s (%s/%s) has no package %s, refused before any change; it has: %s'
            % (url, suite, component, package, ', '.join(names) or 'no package at all'))


def download_file_name(fields):
    """The file name `apt-get download` gives a package: name_version_arch.deb, the epoch's ":" as "%3a"."""
    return '%s_%s_%s.deb' % (fields['Package'], fields['Version'].replace(':', '%3a'), fields['Architecture'])
