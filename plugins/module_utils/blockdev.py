# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Block devices and their I/O schedulers, grouped by device class.

The release notes ask for ADIOS on NVMe and BFQ on rotational disks. Their
``CONFIG_IOSCHED_ADIOS`` / ``CONFIG_DEFAULT_IOSCHED="adios"`` are not symbols
of any tree; the ADIOS patch adds ``CONFIG_MQ_IOSCHED_ADIOS`` and
``CONFIG_MQ_IOSCHED_DEFAULT_ADIOS``, and the active scheduler is read from
``/sys/block/<dev>/queue/scheduler``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from .errors import SourceError
from .zram import parse_bracketed_choice

# Devices whose scheduler does not matter to the profile (memory-backed,
# stacked, loop) or that have none.
_SKIPPED_DEVICE_RE = re.compile(r'^(loop|ram|zram|dm-|md|nbd|sr|fd)\d*')
DEVICE_CLASSES = ('nvme', 'rotational', 'ssd')


def device_class(name, rotational):
    """'nvme', 'rotational' or 'ssd' (any other non-rotational disk, virtio included)."""
    if name.startswith('nvme'):
        return 'nvme'
    return 'rotational' if rotational else 'ssd'


def read_block_devices(root='/'):
    """{name: {'class', 'scheduler', 'schedulers_available', 'rotational'}} for real disks."""
    sys_block = os.path.join(root, 'sys/block')
    try:
        names = sorted(os.listdir(sys_block))
    except (IOError, OSError):
        return {}
    devices = {}
    for name in names:
        if _SKIPPED_DEVICE_RE.match(name):
            continue
        queue = os.path.join(sys_block, name, 'queue')
        try:
            with open(os.path.join(queue, 'scheduler')) as handle:
                sched_text = handle.read()
            with open(os.path.join(queue, 'rotational')) as handle:
                rotational = handle.read().strip() == '1'
        except (IOError, OSError):
            continue
        try:
            selected, available = parse_bracketed_choice(sched_text, os.path.join(queue, 'scheduler'))
        except SourceError:
            continue
        devices[name] = {'class': device_class(name, rotational), 'rotational': rotational,
                         'scheduler': selected, 'schedulers_available': available}
    return devices
