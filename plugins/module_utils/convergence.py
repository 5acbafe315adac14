# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The record of a host's last full deploy pass, and the test that nothing moved since.

deploy.yml's full pass runs about a hundred tasks per host, each finding its piece in place on a
converged host. At its end the rollout writes a record: the fingerprint of everything that steered
the pass (the role inputs and the collection's own code, computed on the controller), the kernel
release it left as the default, the sha256 of every file the roles manage (by glob, so a new file
counts too) and the qdisc plans it applied. A later run compares the host with that record; when
nothing differs (and profile_check passes the running kernel), the host is converged and the pass
can be skipped. Anything unreadable counts as a difference: the answer is then the full pass.

A staging (the new kernel installed, not the default, and its configuration written; see the rollout
role's stage.yml) leaves a record of the same kind with ``staged_on``, the release that still runs: a
later run finds a host still as its staging left it and goes on to its trial boot without staging it
again. Such a record expects ``staged_on`` as the running and default release.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import glob
import hashlib
import json
import os
import time

from .errors import HyperionError
from . import validation

RECORD_SCHEMA = 1
_FINGERPRINT_LENGTH = 64
# Stored beside the figures, never compared: a full pass that finds the same state keeps the record
# (until the record outlives its maximum age, see stale_reason).
_VOLATILE_KEYS = ('recorded_at',)
RECORDED_AT_FORMAT = '%Y-%m-%dT%H:%M:%SZ'
_DAY = 86400


class ConvergenceError(HyperionError):
    """Bad input to the convergence record (a relative glob, a malformed fingerprint)."""


def validate_fingerprint(fingerprint):
    text = fingerprint or ''
    if len(text) != _FINGERPRINT_LENGTH or any(c not in '0123456789abcdef' for c in text):
        raise ConvergenceError('fingerprint must be 64 lower-case hex digits (a sha256), got %r' % (fingerprint,))
    return text


def validate_watch(patterns):
    """Absolute glob patterns, deduplicated in their order."""
    seen = []
    for pattern in patterns or []:
        if not isinstance(pattern, str) or not pattern.startswith('/'):
            raise ConvergenceError('watch pattern %r must be an absolute path or glob (/etc/sysctl.d/*.conf)'
                                   % (pattern,))
        if pattern not in seen:
            seen.append(pattern)
    return seen


def file_digest(path):
    """sha256 of a file's content in hex."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def snapshot(patterns, root='/'):
    """{path: sha256} of the regular files the patterns match under root (paths as seen from root).

    An unreadable file is recorded as ``unreadable``, so it differs from any content.
    """
    base = root.rstrip('/')
    files = {}
    for pattern in validate_watch(patterns):
        for found in glob.glob(base + pattern):
            if not os.path.isfile(found):
                continue
            path = found[len(base):] if base else found
            try:
                files[path] = file_digest(found)
            except (IOError, OSError):
                files[path] = 'unreadable'
    return files


def _canonical(value):
    return json.dumps(value, sort_keys=True, separators=(',', ':'), default=str)


def fingerprint(inputs, code_digest):
    """One sha256 over the inputs (any JSON-able mapping) and the digest of the code that uses them."""
    digest = hashlib.sha256()
    digest.update(_canonical({'inputs': inputs, 'code': code_digest}).encode('utf-8'))
    return digest.hexdigest()


def tree_digest(root, subdirs, skip_dirs=('__pycache__',), skip_suffixes=('.pyc', '.pyo')):
    """sha256 over the relative paths and contents of every file under root/subdir, in sorted order."""
    digest = hashlib.sha256()
    for subdir in subdirs:
        top = os.path.join(root, subdir)
        for current, dirs, names in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d not in skip_dirs)
            for name in sorted(names):
                if name.endswith(skip_suffixes):
                    continue
                path = os.path.join(current, name)
                digest.update(os.path.relpath(path, root).encode('utf-8') + b'\0')
                digest.update(file_digest(path).encode('ascii') + b'\0')
    return digest.hexdigest()


def normalize_plans(plans):
    """The qdisc plans as {device: {'state', 'qdiscs'}}; takes the network role's resolved plans
    (``devices`` lists) or single ``device`` entries."""
    result = {}
    for plan in plans or []:
        devices = plan.get('devices')
        if devices is None:
            devices = [plan['device']] if plan.get('device') else []
        for device in devices:
            if device in result:
                raise ConvergenceError('qdisc plans name device %s twice' % device)
            result[device] = {'state': plan.get('state') or 'present', 'qdiscs': list(plan.get('qdiscs') or [])}
    return result


def make_record(fingerprint_hex, release, watch, files, qdisc_plans, recorded_at, staged_on=None):
    """The record of a full pass (``release`` runs as the default), or of a staging (``staged_on`` runs as the
    default, ``release`` is installed and waits for its trial boot)."""
    if not validation.is_valid('kernel_release', release):
        raise ConvergenceError('release must be a kernel release as uname -r prints it, got %s' % validation.describe(release))
    record = {
        'schema': RECORD_SCHEMA,
        'fingerprint': validate_fingerprint(fingerprint_hex),
        'release': release,
        'watch': validate_watch(watch),
        'files': dict(files),
        'qdisc_plans': normalize_plans(qdisc_plans),
        'recorded_at': recorded_at,
    }
    if staged_on is not None:
        if not validation.is_valid('kernel_release', staged_on):
            raise ConvergenceError('the release the host runs while staged must be a kernel release as uname -r prints it, got %s'
                                   % validation.describe(staged_on))
        if staged_on == release:
            raise ConvergenceError('a staging record is for a release the host does not run yet; %s runs' % release)
        record['staged_on'] = staged_on
    return record


def plans_of_record(record):
    """The record's qdisc plans as the network role resolves them (a list of single-device plans): what a
    later record of the same host is given when the plans come from this record, not from the role."""
    plans = record.get('qdisc_plans') or {}
    return [{'device': device, 'state': plans[device].get('state') or 'present', 'qdiscs': list(plans[device].get('qdiscs') or [])}
            for device in sorted(plans)]


def _stable_part(record):
    return dict((key, value) for key, value in record.items() if key not in _VOLATILE_KEYS)


def same_record(old, new):
    """Whether two records say the same, the time of recording aside."""
    if not isinstance(old, dict):
        return False
    return _canonical(_stable_part(old)) == _canonical(_stable_part(new))


def read_record(path):
    """(record or None, problem or None): a missing record is no problem, only no record."""
    try:
        with open(path) as handle:
            text = handle.read()
    except (IOError, OSError) as exc:
        if getattr(exc, 'errno', None) == 2:
            return None, None
        return None, 'the record %s cannot be read: %s' % (path, exc)
    try:
        record = json.loads(text)
    except ValueError as exc:
        return None, 'the record %s is not JSON: %s' % (path, exc)
    if not isinstance(record, dict) or record.get('schema') != RECORD_SCHEMA:
        return None, 'the record %s is not a schema %d record' % (path, RECORD_SCHEMA)
    return record, None


def record_text(record):
    return json.dumps(record, indent=2, sort_keys=True) + '\n'


def file_differences(recorded, now):
    """Readable lines for files changed, added or removed since the record."""
    lines = []
    for path in sorted(set(recorded) | set(now)):
        if path not in now:
            lines.append('%s was removed' % path)
        elif path not in recorded:
            lines.append('%s is new' % path)
        elif recorded[path] != now[path]:
            lines.append('%s changed' % path)
    return lines


def timestamp(now):
    """The record's time stamp for ``now`` (seconds since the epoch), in UTC."""
    return time.strftime(RECORDED_AT_FORMAT, time.gmtime(now))


# A century: beyond it the age arithmetic on the record's time stamp means nothing.
MAX_AGE_DAYS_LIMIT = 36500


def validate_max_age(days):
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_AGE_DAYS_LIMIT:
        raise ConvergenceError('the maximum age of a record is a whole number of days from 0 (no limit) to %d; got %r'
                               % (MAX_AGE_DAYS_LIMIT, days))
    return days


def _pass_name(record):
    return 'staging' if 'staged_on' in record else 'full pass'


def stale_reason(record, max_age_days, now):
    """Why the record is too old to stand for the host (a line), or None.

    The fast path trusts the record for what it checks; a drift it does not check (a live setting
    outside the profile) waits for a full pass. A maximum age bounds that wait. 0: no limit.
    """
    if not validate_max_age(max_age_days):
        return None
    stamp = record.get('recorded_at')
    try:
        then = calendar.timegm(time.strptime(stamp, RECORDED_AT_FORMAT))
    except (TypeError, ValueError):
        return 'the time of the %s (%r) cannot be read' % (_pass_name(record), stamp)
    if now - then > max_age_days * _DAY:
        return 'the %s of %s is older than %d day%s' % (_pass_name(record), stamp, max_age_days, '' if max_age_days == 1 else 's')
    return None


def compare(record, wanted_fingerprint, running_release, default_release, next_release, files_now,
            max_age_days=0, now=None):
    """Why the host is not as the record (of a full pass or of a staging) says, as readable lines; empty when it is.

    ``files_now`` is the snapshot of the record's own watch list, taken now; the qdisc plans are
    compared by the caller, which can read the live trees. ``max_age_days`` (0: no limit) ends the
    record's trust that many days after its full pass.
    """
    reasons = []
    stale = stale_reason(record, max_age_days, time.time() if now is None else now)
    if stale:
        reasons.append(stale)
    pass_name = _pass_name(record)
    if record.get('fingerprint') != wanted_fingerprint:
        reasons.append('the inputs or the collection changed since the %s of %s'
                       % (pass_name, record.get('recorded_at', 'an unknown time')))
    # A staging leaves the old kernel running and the default; a full pass leaves its release so.
    release = record['staged_on'] if 'staged_on' in record else record.get('release')
    if running_release != release:
        reasons.append('runs %s, the %s left %s' % (running_release, pass_name, release))
    if default_release != release:
        reasons.append('the default boot entry is %s, the %s left %s' % (default_release, pass_name, release))
    if next_release != default_release:
        reasons.append('the next boot is armed for %s' % next_release)
    reasons.extend(file_differences(record.get('files') or {}, files_now))
    return reasons
