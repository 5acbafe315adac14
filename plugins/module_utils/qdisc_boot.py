# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Qdisc plans as ``tc -batch`` files, for the network role's boot-time unit.

A device that appears (at boot, or again after a driver reload) has the
kernel's default qdisc. The batch holds the commands the tc_qdisc module's
planner gives for exactly that state, so the unit that runs ``tc -batch`` at
device appearance builds the same tree the module built, with the same
validation behind it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from .errors import HyperionError
from .qdisc_plan import normalize_plan, plan_steps
from .validation import require

_SAFE_WORD_RE = re.compile(r'[A-Za-z0-9_.:@/+-]+')


def boot_commands(device, qdiscs):
    """The tc argv lists that build the plan on a device that has the kernel default."""
    # The device names the batch file (DEVICE.tc) and the unit instance: the kernel's dev_valid_name() rules.
    require('netdev', device, 'qdisc plan device')
    plan = normalize_plan(qdiscs, 'present')
    return [argv for argv, _reason in plan_steps(device, plan, [], 'present')]


def batch_text(device, qdiscs):
    """``tc -batch`` text: one command per line, without the leading ``tc``."""
    lines = []
    for argv in boot_commands(device, qdiscs):
        for word in argv[1:]:
            # tc -batch splits on white space and knows no quoting worth relying on.
            if not _SAFE_WORD_RE.fullmatch(word):
                raise HyperionError('%s: tc word %r cannot go into a batch file' % (device, word))
        lines.append(' '.join(argv[1:]))
    return ''.join(line + '\n' for line in lines)
