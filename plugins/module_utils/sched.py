# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scheduler's runtime state: the preemption mode, scheduler features and sched_ext.

Read as the kernel prints them:

- ``/sys/kernel/debug/sched/preempt`` (kernel/sched/debug.c, sched_dynamic_show(), PREEMPT_DYNAMIC kernels): the
  modes the kernel offers separated by spaces, the current one in parentheses (``none voluntary (full) lazy``);
  writing a mode's name switches to it;
- ``/sys/kernel/debug/sched/features`` (sched_feat_show(); ``/sys/kernel/debug/sched_features`` before 5.13): every
  feature's name, ``NO_`` in front of the ones that are off; writing ``NAME`` or ``NO_NAME`` switches one;
- ``/sys/kernel/sched_ext/state`` (kernel/sched/ext.c): ``enabled``, ``disabled``, ``enabling`` or ``disabling``;
  ``/sys/kernel/sched_ext/root/ops`` names the loaded BPF scheduler.

debugfs is readable by root only; a reader without it gets None and an error, never a guess.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from .errors import SourceError

PREEMPT_FILES = ('sys/kernel/debug/sched/preempt',)
FEATURES_FILES = ('sys/kernel/debug/sched/features', 'sys/kernel/debug/sched_features')
SCHED_EXT_STATE = 'sys/kernel/sched_ext/state'
SCHED_EXT_OPS = 'sys/kernel/sched_ext/root/ops'
# preempt_modes[] of kernel/sched/core.c (6.13 added lazy, offered where the architecture has it).
PREEMPT_MODES = ('none', 'voluntary', 'full', 'lazy')
SCHED_EXT_STATES = ('enabled', 'disabled', 'enabling', 'disabling')
_FEATURE_RE = re.compile(r'(NO_)?([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)')
_MODE_RE = re.compile(r'(\()?([a-z]+)(\))?')


def parse_preempt(text, source='sched/preempt'):
    """{'mode': current, 'modes': offered} from the preempt file's text."""
    modes, current = [], None
    for token in text.split():
        match = _MODE_RE.fullmatch(token)
        if not match or bool(match.group(1)) != bool(match.group(3)):
            raise SourceError('%s: %r is not a preemption mode (as in "none voluntary (full) lazy")' % (source, token))
        modes.append(match.group(2))
        if match.group(1):
            if current is not None:
                raise SourceError('%s marks two modes as current: %s and %s' % (source, current, match.group(2)))
            current = match.group(2)
    if current is None:
        raise SourceError('%s marks no mode as current: %r' % (source, text.strip()))
    return {'mode': current, 'modes': modes}


def parse_features(text, source='sched/features'):
    """{feature name: on} from the features file's text."""
    features = {}
    for token in text.split():
        match = _FEATURE_RE.fullmatch(token)
        if not match:
            raise SourceError('%s: %r is not a scheduler feature (NAME or NO_NAME)' % (source, token))
        features[match.group(2)] = match.group(1) is None
    if not features:
        raise SourceError('%s lists no scheduler feature' % source)
    return features


def feature_word(name, on):
    """What the features file takes to switch feature NAME on or off."""
    return name if on else 'NO_' + name


def parse_sched_ext_state(text, source=SCHED_EXT_STATE):
    state = text.strip()
    if state not in SCHED_EXT_STATES:
        raise SourceError('%s: %r is not a sched_ext state (%s)' % (source, state, ', '.join(SCHED_EXT_STATES)))
    return state
