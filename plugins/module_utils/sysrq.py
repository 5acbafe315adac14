# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kernel.sysrq mask decoding (Documentation/admin-guide/sysrq.rst).

0 disables SysRq, 1 enables every function, any other value is a bitmask of
function groups. The keys listed per group are the x86 keyboard keys whose
handlers carry that group's enable mask in drivers/tty/sysrq.c.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .errors import HyperionError

# (bit, group name, keys)
SYSRQ_GROUPS = (
    (2, 'console_loglevel', '0-9'),
    (4, 'keyboard_control', 'k r'),
    (8, 'debug_dumps', 'c d g l m p q t w z'),
    (16, 'sync', 's'),
    (32, 'remount_readonly', 'u'),
    (64, 'signal_processes', 'e f i j'),
    (128, 'reboot_poweroff', 'b o'),
    (256, 'nice_realtime_tasks', 'n'),
)
SYSRQ_MAX = 511

# __setup("sysrq_always_enabled", ...) of drivers/tty/sysrq.c. obsolete_checksetup() of init/main.c compares only the
# first len("sysrq_always_enabled") characters of a parameter, "-" and "_" alike (parameqn), and the handler ignores
# what follows: "sysrq_always_enabled=0" and "sysrq-always-enabled" turn the override on too. With it the kernel
# allows every SysRq function whatever mask is written to kernel.sysrq (sysrq_on_mask()), and the sysctl reads 1
# (kernel/sysctl.c reads sysrq_mask()): a mask written live never reads back until a boot without the flag.
ALWAYS_ENABLED = 'sysrq_always_enabled'


def parse_sysrq(value):
    """An int from a sysctl string or number; decimal, 0x hex and 0 octal accepted."""
    if isinstance(value, bool):
        raise HyperionError('kernel.sysrq must be a number, not %r' % value)
    if isinstance(value, int):
        number = value
    else:
        try:
            number = int(str(value).strip(), 0)
        except ValueError:
            raise HyperionError('kernel.sysrq must be a number from 0 to %d, not %r' % (SYSRQ_MAX, value))
    if number < 0 or number > SYSRQ_MAX:
        raise HyperionError('kernel.sysrq %d is out of range: 0 disables, 1 enables all, 2-%d is a bitmask' % (number, SYSRQ_MAX))
    return number


def decode_sysrq(value):
    """What a kernel.sysrq value allows: {'value', 'all', 'groups': [...], 'keys': '...'}."""
    number = parse_sysrq(value)
    if number == 1:
        groups = [name for _bit, name, _keys in SYSRQ_GROUPS]
    else:
        groups = [name for bit, name, _keys in SYSRQ_GROUPS if number & bit]
    keys = ' '.join(keys for bit, name, keys in SYSRQ_GROUPS if name in groups)
    return {'value': number, 'all': number == 1, 'groups': groups, 'keys': keys}


def encode_sysrq(groups):
    """The mask for a list of group names; unknown names are an error."""
    known = dict((name, bit) for bit, name, _keys in SYSRQ_GROUPS)
    mask = 0
    for name in groups:
        if name not in known:
            raise HyperionError('unknown sysrq group %r; known: %s' % (name, ', '.join(sorted(known))))
        mask |= known[name]
    return mask


def always_enabled_by(param_names):
    """The first of PARAM_NAMES (the kernel part of a command line, before '--') that turns sysrq_always_enabled on,
    as the kernel matches it; None when none does."""
    for name in param_names:
        if isinstance(name, str) and name[:len(ALWAYS_ENABLED)].replace('-', '_') == ALWAYS_ENABLED:
            return name
    return None
