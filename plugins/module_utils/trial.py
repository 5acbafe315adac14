# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The trial boot of a new kernel and its promotion, as files: the arm file the host's trial guard reads
(roles/rollout/files/hyperion-trial-guard) and the record of the releases a rollback goes back to.

``plan_arm()`` and ``plan_promotion()`` read the files below a root and return the file changes that
arm a trial of a release, or that record its promotion; the trial_boot module adds the boot entry and
the guard's confirmation around them. Nothing here writes; ``apply_changes()`` does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from .bootloader import FileChange, write_file_changes
from .errors import HyperionError
from .host import read_file
from .validation import ValidationError, bounded_int, require

# The guard's own paths (ARM= and ENDED= in hyperion-trial-guard), relative to the root.
ARM_FILE = 'etc/hyperion-kernel/trial-boot'
ENDED_FILE = 'etc/hyperion-kernel/trial-ended'
# Where the rollout role installs the guard.
GUARD_PROGRAM = '/usr/local/libexec/hyperion-trial-guard'
# The guard compares the deadline with whole seconds of uptime; the rollout role allows 120 to 86400.
DEADLINE_MIN = 1
DEADLINE_MAX = 86400
# The rollout's local fact (ansible_local.hyperion_rollout): the release promoted and the one before it.
DEFAULT_RELEASE_RECORD = '/etc/ansible/facts.d/hyperion_rollout.fact'


class TrialError(HyperionError):
    """A release, deadline or record the trial boot cannot work with."""


def validate_release(release, name='release'):
    try:
        return require('kernel_release', release, name)
    except ValidationError as exc:
        raise TrialError(str(exc))


def validate_deadline(deadline):
    try:
        return bounded_int(deadline, 'deadline', DEADLINE_MIN, DEADLINE_MAX, "seconds of the trial boot's uptime")
    except ValidationError as exc:
        raise TrialError(str(exc))


def arm_text(release, deadline):
    """The arm file as the guard reads it: one key=value per line."""
    return 'release=%s\ndeadline=%d\n' % (release, deadline)


def armed_release(text):
    """The release an arm file names, None without one."""
    for line in (text or '').splitlines():
        if line.startswith('release='):
            return line[len('release='):] or None
    return None


def armed_trial(root):
    """(arm file, the release it arms or None) when a trial is armed below ROOT, else None."""
    path = os.path.join(root, ARM_FILE)
    if not os.path.lexists(path):
        return None
    return path, armed_release(read_file(path))


def plan_arm(root, release, deadline):
    """The file changes that arm the guard for a trial boot of RELEASE with DEADLINE seconds (none when
    DEADLINE is None: a one-time boot without the guard), and forget the note of an earlier trial the guard
    ended, so the gate does not quote it."""
    release = validate_release(release)
    changes = []
    if deadline is not None:
        wanted = arm_text(release, validate_deadline(deadline))
        path = os.path.join(root, ARM_FILE)
        current = read_file(path)
        if current != wanted:
            changes.append(FileChange(path, current, wanted, 'the guard reboots into the default unless confirmed '
                                                             'within %d s of the boot' % deadline))
        ended = os.path.join(root, ENDED_FILE)
        if os.path.lexists(ended):
            changes.append(FileChange(ended, read_file(ended), None, 'the note of an earlier trial the guard ended'))
    return changes


def read_release_record(path):
    """(record, problem): the recorded releases ({} when missing), or {} and why the file is unusable."""
    text = read_file(path)
    if text is None:
        return {}, None
    try:
        record = json.loads(text)
    except ValueError as exc:
        return {}, '%s is not JSON (%s): it is written anew' % (path, exc)
    if not isinstance(record, dict):
        return {}, '%s is not a JSON object: it is written anew' % path
    return record, None


def release_record_text(record):
    """As Ansible's to_nice_json writes it (the file is also a local fact)."""
    return json.dumps(record, indent=4, sort_keys=True, separators=(',', ': ')) + '\n'


def promoted_record(recorded, release, previous):
    """The record after promoting RELEASE over PREVIOUS, the release the host ran before this rollout. A host
    that already ran RELEASE keeps the release a rollback goes back to."""
    if previous != release:
        back_to = previous
    else:
        back_to = recorded.get('previous_release') or release
    return {'current_release': release, 'previous_release': back_to}


def plan_promotion(record_path, release, previous):
    """(change or None, record, problem) for the release record of a promotion of RELEASE over PREVIOUS."""
    release = validate_release(release)
    previous = validate_release(previous, 'previous')
    recorded, problem = read_release_record(record_path)
    record = promoted_record(recorded, release, previous)
    if recorded == record and problem is None:
        return None, record, None
    before = read_file(record_path)
    change = FileChange(record_path, before, release_record_text(record),
                        'the releases a rollback goes back to (%s)' % record['previous_release'])
    return change, record, problem


def apply_changes(changes):
    """Write or remove the planned files, in order."""
    write_file_changes(changes, TrialError)
