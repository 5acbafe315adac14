# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zram swap plan of the zram role: the size expression and zram-generator's configuration.

zram-generator (1.2.x, Debian trixie) sizes a device with an arithmetic
expression of ``ram`` (MemTotal in MiB): ``ram / 2``, ``min(ram / 2, 4096)``.
The role evaluates the same expression for the host before writing it, so a
size larger than RAM is refused before anything changes. The evaluator accepts
the subset of zram-generator's language that sizing needs: numbers, ``ram``,
``+ - * / % ^``, parentheses and min, max, int, ceil, floor, round, abs.

``compression-algorithm`` takes a whitespace-separated list: the first
algorithm is the primary one, later ones become recompression algorithms with
priority 1, 2, ..., and a parenthesised list without an algorithm, such as
``(type=idle)``, sets the global recompression parameters. Recompression
needs CONFIG_ZRAM_MULTI_COMP; without it the role writes the primary
algorithm only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import math
import operator
import re

from .errors import HyperionError

_FUNCTIONS = {
    'min': min, 'max': max, 'abs': abs,
    'int': lambda x: float(int(x)), 'ceil': lambda x: float(math.ceil(x)),
    'floor': lambda x: float(math.floor(x)), 'round': lambda x: float(round(x)),
}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Mod: operator.mod, ast.Pow: operator.pow}
_ALGORITHM_RE = re.compile(r'[a-z0-9-]+')
MULTI_COMP_OPTION = 'CONFIG_ZRAM_MULTI_COMP'


def _evaluate(node, ram, text):
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, ram, text)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Name) and node.id == 'ram':
        return float(ram)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left, ram, text), _evaluate(node.right, ram, text)
        if isinstance(node.op, (ast.Div, ast.Mod)) and right == 0:
            raise HyperionError('zram size %r divides by zero' % text)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _evaluate(node.operand, ram, text)
        return -value if isinstance(node.op, ast.USub) else value
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS
            and not node.keywords and node.args):
        return _FUNCTIONS[node.func.id](*[_evaluate(arg, ram, text) for arg in node.args])
    raise HyperionError('zram size %r: only numbers, ram, + - * / %% ^, parentheses and %s are understood'
                        % (text, ', '.join(sorted(_FUNCTIONS))))


def size_mib(expression, ram_mib):
    """The size in MiB that EXPRESSION gives on a host with RAM_MIB of MemTotal."""
    if isinstance(expression, bool) or not isinstance(expression, (str, int, float)):
        raise HyperionError('zram size must be an expression of ram such as "ram / 2", not %r' % (expression,))
    text = str(expression).strip()
    if not text:
        raise HyperionError('zram size is empty')
    try:
        tree = ast.parse(text.replace('^', '**'), mode='eval')
    except SyntaxError:
        raise HyperionError('zram size %r is not an arithmetic expression of ram' % text)
    return _evaluate(tree, ram_mib, text)


def check_size(expression, ram_mib):
    """Evaluate and refuse sizes that are not positive or larger than RAM; returns MiB."""
    size = size_mib(expression, ram_mib)
    if size <= 0:
        raise HyperionError('zram size %r gives %.0f MiB on this host; it must be more than 0' % (expression, size))
    if size > ram_mib:
        raise HyperionError('zram size %r gives %.0f MiB, more than the host\'s %d MiB of RAM; zram stores its '
                            'compressed pages in that RAM, so such a device only moves the out-of-memory point'
                            % (expression, size, ram_mib))
    return size


def ratio_expression(minimum, maximum):
    """'ram * 0.5' for the middle of the profile's disksize_ratio range."""
    for value in (minimum, maximum):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise HyperionError('the disksize ratio range needs numbers, not %r' % (value,))
    middle = (float(minimum) + float(maximum)) / 2
    return 'ram * %s' % ('%.4f' % middle).rstrip('0').rstrip('.')


def compression_setting(primary, recompression, multi_comp, recompress_params='type=idle'):
    """(compression-algorithm value, warning or None) for the kernel's zram features."""
    for name in [primary] + ([recompression] if recompression else []):
        if not isinstance(name, str) or not _ALGORITHM_RE.fullmatch(name):
            raise HyperionError('%r is not a compression algorithm name (zstd, lz4, lz4hc, lzo-rle ...)' % (name,))
    if not recompression:
        return primary, None
    if recompression == primary:
        raise HyperionError('the recompression algorithm must differ from the primary one (%s)' % primary)
    if not multi_comp:
        return primary, ('the kernel has no %s: zram runs a single %s stream, without %s recompression of idle pages'
                         % (MULTI_COMP_OPTION, primary, recompression))
    if recompress_params:
        return '%s %s (%s)' % (primary, recompression, recompress_params), None
    return '%s %s' % (primary, recompression), None


def generator_conf(device, size, algorithm, swap_priority, options='discard'):
    """The text of zram-generator.conf for one swap device."""
    if not re.fullmatch(r'zram[0-9]+', device or ''):
        raise HyperionError('%r is not a zram device name (zram0, zram1 ...)' % (device,))
    if isinstance(swap_priority, bool) or not isinstance(swap_priority, int) or not -1 <= swap_priority <= 32767:
        raise HyperionError('swap priority must be a number from -1 to 32767, not %r' % (swap_priority,))
    lines = ['[%s]' % device, 'zram-size = %s' % size, 'compression-algorithm = %s' % algorithm,
             'swap-priority = %d' % swap_priority, 'options = %s' % options]
    return '\n'.join(lines) + '\n'


def live_swap_state(swaps, device):
    """How DEVICE is used now, from parse_proc_swaps() entries: None (not a swap) or its entry."""
    for swap in swaps or ():
        if swap.get('filename', '').rsplit('/', 1)[-1] == device:
            return swap
    return None


def swapoff_is_safe(used_kib, mem_available_kib, reserve_kib=131072):
    """Whether the pages in a swap fit into free memory with a reserve left over."""
    return used_kib + reserve_kib <= mem_available_kib
