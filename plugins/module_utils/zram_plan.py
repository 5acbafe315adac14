# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""zram swap plan of the zram role: the size expression and zram-generator's configuration.

zram-generator (1.2.x, Debian trixie) sizes a device with an arithmetic
expression of ``ram`` (MemTotal in MiB): ``ram / 2``, ``min(ram / 2, 4096)``.
The role evaluates the same expression for the host before writing it, so a
size larger than RAM is refused before anything changes. zram-generator
evaluates it with fasteval (arithmetic ``^ % / * - +``, e, pi, SI suffixes,
log, int, ceil, floor, round, abs, min, max and trigonometric functions); the
evaluator here accepts the subset that sizing needs and refuses the rest with
a message: decimal numbers, ``ram``, ``+ - * / % ^``, parentheses and min, max,
int, ceil, floor, round, abs, evaluated as fasteval does (``%`` keeps the sign
of the dividend, round() rounds halves away from zero). Where evaluators
disagree on grouping (``-a ^ b``, ``a ^ b ^ c``) parentheses are required.
Python-only forms (``**``, ``//``, ``1_000``, ``0x10``, ``1e3``) are
refused, since zram-generator would not read them.

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

from .check import describe_expected, match_value
from .errors import HyperionError
from .validation import ValidationError, bounded_int, did_you_mean, require, single_line


def _round_half_away(value):
    # fasteval rounds as Rust's f64::round: halves away from zero (Python's round() goes to even).
    return float(math.floor(value + 0.5)) if value >= 0 else -float(math.floor(-value + 0.5))


_FUNCTIONS = {
    'min': min, 'max': max, 'abs': abs,
    'int': lambda x: float(int(x)), 'ceil': lambda x: float(math.ceil(x)),
    'floor': lambda x: float(math.floor(x)), 'round': _round_half_away,
}
# Functions of one argument; min and max take one or more.
_UNARY_FUNCTIONS = ('abs', 'int', 'ceil', 'floor', 'round')
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Mod: math.fmod, ast.Pow: operator.pow}
# The tokens of the accepted subset; the whole expression must be a sequence of them.
_TOKEN_RE = re.compile(r'\s*(?:[0-9]+(?:\.[0-9]+)?|[a-z]+|[-+*/%^(),])')
_EXPRESSION_MAX = 256
_ALGORITHM_RE = re.compile(r'[a-z0-9-]+')
MULTI_COMP_OPTION = 'CONFIG_ZRAM_MULTI_COMP'


def _is_pow(node):
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)


def _parenthesized(source, start, end):
    """Whether the parsed SOURCE has an opening parenthesis between two offsets (an operand's explicit grouping)."""
    return '(' in source[start:end]


def _evaluate(node, ram, text, source):
    """The value of a parsed node; TEXT is the expression as given, SOURCE as parsed (^ written **)."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, ram, text, source)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.Name) and node.id == 'ram':
        return float(ram)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        if isinstance(node.op, ast.Pow):
            # a ^ b ^ c: which ^ binds first differs between evaluators; parentheses say it.
            for operand, gap in ((node.left, (node.col_offset, node.left.col_offset)),
                                 (node.right, (getattr(node.left, 'end_col_offset', 0), node.right.col_offset))):
                if _is_pow(operand) and not _parenthesized(source, *gap):
                    raise HyperionError('zram size %r: say with parentheses which ^ comes first, (a ^ b) ^ c or '
                                        'a ^ (b ^ c)' % text)
        left, right = _evaluate(node.left, ram, text, source), _evaluate(node.right, ram, text, source)
        if isinstance(node.op, (ast.Div, ast.Mod)) and right == 0:
            raise HyperionError('zram size %r divides by zero' % text)
        if isinstance(node.op, ast.Pow) and left < 0 and not right.is_integer():
            raise HyperionError('zram size %r raises a negative number to a fractional power' % text)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        # fasteval reads -2 ^ 2 as (-2) ^ 2 = 4, Python as -(2 ^ 2) = -4: only the parenthesized forms are taken.
        if _is_pow(node.operand) and not _parenthesized(source, node.col_offset + 1, node.operand.col_offset):
            raise HyperionError('zram size %r: write (-a) ^ b or -(a ^ b); zram-generator and this check would read '
                                '-a ^ b differently' % text)
        value = _evaluate(node.operand, ram, text, source)
        return -value if isinstance(node.op, ast.USub) else value
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS
            and not node.keywords and node.args):
        if node.func.id in _UNARY_FUNCTIONS and len(node.args) != 1:
            raise HyperionError('zram size %r: %s() takes one argument' % (text, node.func.id))
        args = [_evaluate(arg, ram, text, source) for arg in node.args]
        return _FUNCTIONS[node.func.id](*args) if len(args) > 1 or node.func.id in _UNARY_FUNCTIONS else args[0]
    raise HyperionError('zram size %r: only numbers, ram, + - * / %% ^, parentheses and %s are understood'
                        % (text, ', '.join(sorted(_FUNCTIONS))))


def _check_tokens(text):
    """Refuse what is not in the accepted subset before Python's parser sees it."""
    position = 0
    while position < len(text):
        token = _TOKEN_RE.match(text, position)
        if token is None or token.end() == position:
            if text[position:].strip() == '':
                return
            raise HyperionError('zram size %r: %s at position %d is not part of a size expression (numbers such as '
                                '0.5, ram, + - * / %% ^, parentheses, %s)'
                                % (text, repr(text[position]), position + 1, ', '.join(sorted(_FUNCTIONS))))
        word = token.group().strip()
        if word.isalpha() and word != 'ram' and word not in _FUNCTIONS:
            raise HyperionError('zram size %r: %r is not ram or a function this role evaluates (%s)%s'
                                % (text, word, ', '.join(sorted(_FUNCTIONS)), did_you_mean(word, ['ram'] + list(_FUNCTIONS))))
        position = token.end()
    if '**' in re.sub(r'\s+', '', text) or '//' in re.sub(r'\s+', '', text):
        raise HyperionError('zram size %r: ** and // are Python, not zram-generator (use ^ for a power, floor(a / b))' % text)


def size_mib(expression, ram_mib):
    """The size in MiB that EXPRESSION gives on a host with RAM_MIB of MemTotal.

    Every bad expression is a HyperionError: Python's own exceptions (a recursion too deep, an
    overflow, a float that is not a number) never leave this function.
    """
    if isinstance(expression, bool) or not isinstance(expression, (str, int, float)):
        raise HyperionError('zram size must be an expression of ram such as "ram / 2", not %r' % (expression,))
    if isinstance(expression, float) and not math.isfinite(expression):
        raise HyperionError('zram size %r is not a finite number' % (expression,))
    text = str(expression).strip()
    if not text:
        raise HyperionError('zram size is empty')
    single_line(text, 'zram size')
    if len(text) > _EXPRESSION_MAX:
        raise HyperionError('zram size is %d characters long; at most %d are accepted' % (len(text), _EXPRESSION_MAX))
    _check_tokens(text)
    source = text.replace('^', '**')
    try:
        tree = ast.parse(source, mode='eval')
    except (SyntaxError, ValueError):
        raise HyperionError('zram size %r is not an arithmetic expression of ram' % text)
    except (RecursionError, MemoryError):
        raise HyperionError('zram size %r is nested too deeply' % text)
    try:
        value = _evaluate(tree, ram_mib, text, source)
    except HyperionError:
        raise
    except OverflowError:
        # 10 ^ 400, round() of an infinite value.
        raise HyperionError('zram size %r cannot be evaluated: a number in it is too large' % text)
    except ZeroDivisionError:
        # 0 ^ -1.
        raise HyperionError('zram size %r cannot be evaluated: it divides by zero' % text)
    except (ArithmeticError, ValueError, TypeError) as exc:
        # int() of a value that is not a number, among others.
        raise HyperionError('zram size %r cannot be evaluated: %s' % (text, exc))
    except (RecursionError, MemoryError):
        raise HyperionError('zram size %r is nested too deeply' % text)
    if not math.isfinite(value):
        raise HyperionError('zram size %r gives %s, not a finite number of MiB' % (text, value))
    return value


def check_size(expression, ram_mib):
    """Evaluate and refuse sizes that are not positive or larger than RAM; returns MiB."""
    if isinstance(ram_mib, bool) or not isinstance(ram_mib, (int, float)) or not math.isfinite(ram_mib) or ram_mib <= 0:
        raise HyperionError('the host\'s RAM must be a positive number of MiB, got %r' % (ram_mib,))
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


# The keys of zram's recompress attribute (drivers/block/zram/zram_drv.c, recompress_store): the
# kernel ignores a key it does not know and takes an unknown type as "every page", so both are refused.
RECOMPRESS_TYPES = ('idle', 'huge', 'huge_idle')
RECOMPRESS_KEYS = ('type', 'max_pages', 'threshold', 'algo', 'priority')
# recompress_store() refuses a threshold at or above zsmalloc's huge class size (about 3.2 KiB with
# 4 KiB pages); 3000 is the largest value the kernel's documentation uses and is below it everywhere.
RECOMPRESS_THRESHOLD_MAX = 3000
# ZRAM_MAX_COMPS is 4: priority 0 is the primary algorithm, 1 to 3 the recompression ones.
RECOMPRESS_PRIORITY_MAX = 3
_U64_MAX = 2 ** 64 - 1


def recompress_params(text, recompression=None):
    """TEXT ('type=idle max_pages=1000') checked against the keys zram's recompress takes; the normalized text.

    Empty text is allowed (no global recompression parameters). RECOMPRESSION, when given, is the only
    algorithm an algo= key may name (the only one the role configures).
    """
    what = 'the recompression parameters'
    single_line(text, what)
    seen = {}
    for word in text.split():
        key, sep, value = word.partition('=')
        if not sep or not value:
            raise HyperionError('%s %r: %r must be key=value (keys: %s)' % (what, text, word, ', '.join(RECOMPRESS_KEYS)))
        if key not in RECOMPRESS_KEYS:
            raise HyperionError('%s %r: zram\'s recompress has no key %r%s; it takes %s'
                                % (what, text, key, did_you_mean(key, RECOMPRESS_KEYS), ', '.join(RECOMPRESS_KEYS)))
        if key in seen:
            raise HyperionError('%s %r: %s is given twice' % (what, text, key))
        try:
            if key == 'type':
                if value not in RECOMPRESS_TYPES:
                    raise HyperionError('%s %r: type must be %s, got %r%s (the kernel takes any other type as every '
                                        'page)' % (what, text, ', '.join(RECOMPRESS_TYPES), value,
                                                   did_you_mean(value, RECOMPRESS_TYPES)))
            elif key == 'max_pages':
                bounded_int(value, 'max_pages', 1, _U64_MAX, "the kernel's u64; 0 would recompress nothing")
            elif key == 'threshold':
                bounded_int(value, 'threshold', 1, RECOMPRESS_THRESHOLD_MAX,
                            'bytes; the kernel refuses sizes from its huge class size up')
            elif key == 'priority':
                bounded_int(value, 'priority', 1, RECOMPRESS_PRIORITY_MAX, 'the recompression priorities of zram')
            else:
                require('kernel_algorithm', value, 'algo')
                if recompression is not None and value != recompression:
                    raise HyperionError('%s %r: algo=%s is not the recompression algorithm (%s)'
                                        % (what, text, value, recompression))
        except ValidationError as exc:
            raise HyperionError('%s %r: %s' % (what, text, exc))
        # Only whole numbers reach here for the numeric keys: written back without a sign or leading zeros.
        seen[key] = str(int(value)) if key in ('max_pages', 'threshold', 'priority') else value
    return ' '.join('%s=%s' % (key, seen[key]) for key in RECOMPRESS_KEYS if key in seen)


def compression_setting(primary, recompression, multi_comp, recompress_params_text='type=idle'):
    """(compression-algorithm value, warning or None) for the kernel's zram features."""
    for name in [primary] + ([recompression] if recompression else []):
        if not isinstance(name, str) or not _ALGORITHM_RE.fullmatch(name):
            raise HyperionError('%r is not a compression algorithm name (zstd, lz4, lz4hc, lzo-rle ...)' % (name,))
    if not recompression:
        return primary, None
    if recompression == primary:
        raise HyperionError('the recompression algorithm must differ from the primary one (%s)' % primary)
    params = recompress_params(recompress_params_text or '', recompression)
    if not multi_comp:
        return primary, ('the kernel has no %s: zram runs a single %s stream, without %s recompression of idle pages'
                         % (MULTI_COMP_OPTION, primary, recompression))
    if params:
        return '%s %s (%s)' % (primary, recompression, params), None
    return '%s %s' % (primary, recompression), None


# The profile items of the two algorithms: what check.yml and the rollout's health gate read on the host.
ALGORITHM_ITEMS = (('zram_compression_algorithm', 'zram:zram0:comp_algorithm'),
                   ('zram_recompression_algorithm', 'zram:zram0:recomp_algorithm'))


def algorithm_choice(items, primary=None, recompression=None, multi_comp=True):
    """{'primary', 'recompression'} the role configures: its variables, else the resolved profile items.

    A variable the item would fail is refused: the role would set up a host that check.yml reports as drifting
    and that fails the rollout's health gate, which read the items, not the role's variables. A site chooses
    the algorithms (and so their order) with hyperion_profile_overrides, which the role and the check both
    follow; a skipped item, or the recompression item on a kernel without recompression, judges nothing.
    Without a variable, an exact item gives its value and a one_of item its first value.
    """
    chosen = []
    for (name, item_id), value in zip(ALGORITHM_ITEMS, (primary, recompression)):
        item = (items or {}).get(item_id) or {}
        judged = bool(item) and not item.get('skip') and (item_id != ALGORITHM_ITEMS[1][1] or multi_comp)
        if value is None:
            value = item.get('value') if item.get('match', 'exact') == 'exact' else (item.get('values') or [None])[0]
            if value is None:
                raise HyperionError('%s is not set and the profile item %s gives no algorithm (%s): set one of them'
                                    % (name, item_id, describe_expected(item) if item else 'no such item'))
        elif judged and not match_value(item, value):
            raise HyperionError(
                '%s is %s, but the profile item %s expects %s: check.yml and the rollout\'s health gate would fail the '
                'host. Choose the algorithms with hyperion_profile_overrides ("%s": %s), which this role and the check '
                'both follow, instead of %s' % (name, value, item_id, describe_expected(item), item_id, value, name))
        chosen.append(value)
    return {'primary': chosen[0], 'recompression': chosen[1]}


# zram's compression backends (CONFIG_ZRAM_BACKEND_*, kernel 6.12 and later) and, before them, the
# crypto API algorithms zram used (CONFIG_CRYPTO_*): the names comp_algorithm lists for each.
_BACKENDS = (('LZO', ('lzo', 'lzo-rle')), ('LZ4', ('lz4',)), ('LZ4HC', ('lz4hc',)), ('ZSTD', ('zstd',)),
             ('DEFLATE', ('deflate',)), ('842', ('842',)))


def _enabled(options, name):
    return options.get(name) in ('y', 'm')


def offered_algorithms(state, device, target_is_running):
    """{'algorithms': [names] or None, 'source': where they were read} from kernel_facts' hyperion_kernel.

    The running kernel's /sys/block/zramN/comp_algorithm lists what it offers (when the device exists);
    for another kernel, or before the module is loaded, the kernel config of the target tells.
    """
    zram = (state or {}).get('zram') or {}
    devices = zram.get('devices') or {}
    if target_is_running:
        for name in [device] + sorted(devices):
            available = (devices.get(name) or {}).get('comp_algorithms_available')
            if available:
                return {'algorithms': list(available), 'source': '/sys/block/%s/comp_algorithm' % name}
    config = (state or {}).get('config') or {}
    options = config.get('options')
    source = config.get('source') or 'the kernel config'
    if not options:
        return {'algorithms': None, 'source': config.get('error') or 'no kernel config was read'}
    if not _enabled(options, 'CONFIG_ZRAM'):
        return {'algorithms': [], 'source': '%s (no CONFIG_ZRAM)' % source}
    algorithms = []
    if any(name.startswith('CONFIG_ZRAM_BACKEND_') for name in options):
        for suffix, names in _BACKENDS:
            if _enabled(options, 'CONFIG_ZRAM_BACKEND_' + suffix):
                algorithms.extend(names)
        return {'algorithms': algorithms, 'source': '%s (CONFIG_ZRAM_BACKEND_*)' % source}
    for suffix, names in _BACKENDS:
        if _enabled(options, 'CONFIG_CRYPTO_' + suffix):
            algorithms.extend(names)
    return {'algorithms': algorithms, 'source': '%s (CONFIG_CRYPTO_*)' % source}


def check_offered(primary, recompression, multi_comp, offered):
    """Refuse a primary (or, with recompression configured, a recompression) algorithm the kernel lacks.

    OFFERED is offered_algorithms()'s result; returns the names checked.
    """
    algorithms = offered.get('algorithms')
    if algorithms is None:
        raise HyperionError('cannot tell which compression algorithms the kernel offers (%s); no zram device to read '
                            'and no kernel config: nothing was changed' % offered.get('source'))
    wanted = [('compression algorithm', primary)]
    if recompression and multi_comp:
        wanted.append(('recompression algorithm', recompression))
    for what, name in wanted:
        if name not in algorithms:
            raise HyperionError('the %s %s is not offered by the kernel: %s lists %s%s; nothing was changed'
                                % (what, name, offered.get('source'), ', '.join(algorithms) or 'none',
                                   did_you_mean(name, algorithms)))
    return [name for _what, name in wanted]


# systemd's time span units (systemd.time(7)) in seconds, as the systemd_timespan kind writes them.
_TIMESPAN_UNITS = {'us': 1e-6, 'ms': 1e-3, '': 1, 's': 1, 'sec': 1, 'm': 60, 'min': 60, 'h': 3600, 'hr': 3600,
                   'd': 86400, 'w': 604800}
_TIMESPAN_PART_RE = re.compile(r'([0-9]+) ?([a-z]*)')
# A span longer than a year is a typo for a timer that recompresses.
TIMESPAN_MAX_S = 366 * 86400


def timespan_seconds(text, what, minimum_s=0):
    """Seconds of a systemd time span ('1h 30min'), refused unless from MINIMUM_S to a year."""
    require('systemd_timespan', text, what)
    total = 0.0
    for number, unit in _TIMESPAN_PART_RE.findall(text):
        total += int(number) * _TIMESPAN_UNITS[unit]
    if not minimum_s <= total <= TIMESPAN_MAX_S:
        raise HyperionError('%s %r is %g s; it must be from %d s to %d s (a year)'
                            % (what, text, total, minimum_s, TIMESPAN_MAX_S))
    return total


# The role's own limits: swapon(8) takes priorities -1 to 32767; a reserve beyond 64 GiB is a typo.
SWAP_PRIORITY_MIN, SWAP_PRIORITY_MAX = -1, 32767
LIVE_RESERVE_KIB_MAX = 64 * 1024 * 1024
# The recompression interval is how long a page must sit untouched: shorter than a minute only burns CPU.
RECOMPRESS_INTERVAL_MIN_S = 60


# The variables check_role_inputs reads without a default: the role passes each of them.
ROLE_INPUTS = ('zram_device', 'zram_live_reserve_kib', 'zram_recompression_params', 'zram_recompress_on_boot_sec',
               'zram_recompress_interval', 'zram_takeover_packages', 'zram_takeover_services', 'zram_package')


def check_role_inputs(values):
    """The zram role's variables, checked before anything is read or changed; raises naming the variable."""
    if not isinstance(values, dict):
        raise HyperionError('the zram role\'s variables must be a mapping, got %r' % (values,))
    missing = sorted(name for name in ROLE_INPUTS if name not in values)
    if missing:
        raise HyperionError('the zram role\'s variables lack %s' % ', '.join(missing))
    require('zram_device', values['zram_device'], 'zram_device')
    if values.get('zram_kernel_release'):
        require('kernel_release', values['zram_kernel_release'], 'zram_kernel_release')
    for name in ('zram_compression_algorithm', 'zram_recompression_algorithm'):
        if values.get(name) is not None:
            require('kernel_algorithm', values[name], name)
    if values.get('zram_size') is not None:
        single_line(str(values['zram_size']), 'zram_size', allow_empty=False)
    if values.get('zram_swap_priority') is not None:
        bounded_int(values['zram_swap_priority'], 'zram_swap_priority', SWAP_PRIORITY_MIN, SWAP_PRIORITY_MAX,
                    "swapon's priorities")
    bounded_int(values['zram_live_reserve_kib'], 'zram_live_reserve_kib', 0, LIVE_RESERVE_KIB_MAX)
    recompress_params(values['zram_recompression_params'] or '', values.get('zram_recompression_algorithm'))
    timespan_seconds(values['zram_recompress_on_boot_sec'], 'zram_recompress_on_boot_sec')
    timespan_seconds(values['zram_recompress_interval'], 'zram_recompress_interval', RECOMPRESS_INTERVAL_MIN_S)
    for name, kind in (('zram_takeover_packages', 'package_name'), ('zram_takeover_services', 'file_name')):
        if not isinstance(values[name], list):
            raise HyperionError('%s must be a list, got %r' % (name, values[name]))
        for index, entry in enumerate(values[name]):
            require(kind, entry, '%s[%d]' % (name, index))
    require('package_name', values['zram_package'], 'zram_package')
    return True


def generator_conf(device, size, algorithm, swap_priority, options='discard'):
    """The text of zram-generator.conf for one swap device."""
    if not re.fullmatch(r'zram[0-9]+', device or ''):
        raise HyperionError('%r is not a zram device name (zram0, zram1 ...)' % (device,))
    if isinstance(swap_priority, bool) or not isinstance(swap_priority, int) or not -1 <= swap_priority <= 32767:
        raise HyperionError('swap priority must be a number from -1 to 32767, not %r' % (swap_priority,))
    for what, value in (('zram size', size), ('compression algorithm', algorithm), ('options', options)):
        # Each value is one line of an INI file: a newline would start a key of its own.
        single_line(str(value), what, allow_empty=False)
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


def zram_swap_used_kib(swaps):
    """KiB in use on every zram swap (/dev/zram*) of parse_proc_swaps() entries: what stopping them moves into RAM."""
    return sum(swap.get('used_kib') or 0 for swap in swaps or () if swap.get('filename', '').startswith('/dev/zram'))


def live_rebuild_is_safe(state, reserve_kib):
    """Whether the zram role may stop and rebuild the zram swap now, from kernel_facts' hyperion_kernel STATE.

    swapoff_is_safe() for the pages of every zram swap against MemAvailable (none read counts as 0, so
    the rebuild waits for a reboot), with RESERVE_KIB (zram_live_reserve_kib) to spare.
    """
    zram = (state or {}).get('zram')
    if not isinstance(zram, dict):
        raise HyperionError('the host\'s zram facts are missing: kernel_facts must gather the zram subset')
    reserve = bounded_int(reserve_kib, 'zram_live_reserve_kib', 0, LIVE_RESERVE_KIB_MAX)
    return swapoff_is_safe(zram_swap_used_kib(zram.get('swaps')), zram.get('mem_available_kib') or 0, reserve)


# The zram role's one probe of other setups and packages: `systemctl show --property=Id,LoadState` for each
# unit, this marker line, then dpkg-query's "${Package} ${db:Status-Status}" lines (none for a package dpkg
# has never heard of).
TAKEOVER_PROBE_MARKER = '--- packages'
_PROBE_UNIT_RE = re.compile(r'(?m)^Id=(\S+)\nLoadState=(\S+)$')
_PROBE_PACKAGE_RE = re.compile(r'(\S+) (\S+)')


def takeover_probe(text, package, takeover_packages):
    """What the zram role finds before it changes anything, from the probe's output (TEXT):
    {'units': the takeover units systemd knows (LoadState other than not-found),
     'remove_packages': whether a takeover package is there in any state but not-installed (apt purges it),
     'install_package': whether PACKAGE is not installed}."""
    lines = text.splitlines() if isinstance(text, str) else []
    if TAKEOVER_PROBE_MARKER not in lines:
        raise HyperionError('the probe of zram setups printed no %r line: %r' % (TAKEOVER_PROBE_MARKER, text))
    marker = lines.index(TAKEOVER_PROBE_MARKER)
    units_text = '\n'.join(lines[:marker])
    states = {}
    for line in lines[marker + 1:]:
        if not line.strip():
            continue
        match = _PROBE_PACKAGE_RE.fullmatch(line.strip())
        if not match:
            raise HyperionError('the probe of zram setups printed a package line it cannot read: %r' % (line,))
        states[match.group(1)] = match.group(2)
    return {
        'units': [unit for unit, load_state in _PROBE_UNIT_RE.findall(units_text) if load_state != 'not-found'],
        'remove_packages': any(states.get(name, 'not-installed') != 'not-installed' for name in takeover_packages),
        'install_package': states.get(package) != 'installed',
    }
