# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel command line parsing with the kernel's own rules.

A port of next_arg() (lib/cmdline.c) and of the loop of parse_args() (kernel/params.c),
checked against the C functions of the kernel source by a property test:
- the line is a C string: it ends at its first NUL;
- arguments are separated by white space outside double quotes, where white space is
  what lib/ctype.c calls space: tab, newline, vertical tab, form feed, carriage return,
  space and byte 0xA0 (so text should be decoded as Latin-1 to be split as the kernel
  splits the bytes);
- a value may be quoted (``"dyndbg=module zram +p"`` or ``opt="a b"``); the quotes are
  not part of the value;
- ``-`` and ``_`` are the same character in a parameter name (parameq());
- a lone ``--`` ends the kernel's parameters: what follows is for init, up to a second
  lone ``--``, after which the kernel drops the rest.
A parameter given twice keeps every value; the kernel's handlers use the last.

The editing helpers (``split_tokens``, ``edit_tokens``) work on raw tokens, so a line
is rewritten without touching what is not managed; every bootloader writer uses them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from .validation import ValidationError, require

# isspace() of lib/ctype.c: _S is set for 9-13, 32 and 160, nothing else (not 0x1c-0x1f or 0x85,
# which Python's str.isspace() counts).
KERNEL_SPACE = frozenset('\t\n\v\f\r \xa0')


def normalize_name(name):
    """Canonical spelling of a parameter name (the kernel treats - and _ alike)."""
    return name.replace('-', '_')


def skip_spaces(text, pos):
    while pos < len(text) and text[pos] in KERNEL_SPACE:
        pos += 1
    return pos


def next_arg(text, pos):
    """lib/cmdline.c next_arg() on ``text`` from ``pos`` (a non-space character).

    Returns ``(param, value, new_pos)``: value is None for a bare flag, new_pos is past
    the white space that follows. The C function writes NULs into its buffer; ``cut``
    holds the positions it would overwrite, and each string ends at the first of them.
    """
    in_quote = quoted = False
    if text[pos] == '"':
        pos += 1
        in_quote = quoted = True
    args = text[pos:]
    i = 0
    equals = 0  # as in C, 0 also means "not found": an '=' at index 0 does not count
    while i < len(args):
        char = args[i]
        if char in KERNEL_SPACE and not in_quote:
            break
        if equals == 0 and char == '=':
            equals = i
        if char == '"':
            in_quote = not in_quote
        i += 1
    cut = set([i])
    value_start = None
    if equals:
        cut.add(equals)
        value_start = equals + 1
        # Don't include quotes in value (args[i] is white space or the end, never a quote).
        if value_start < i and args[value_start] == '"':
            value_start += 1
            if args[i - 1] == '"':
                cut.add(i - 1)
    if quoted and i > 0 and args[i - 1] == '"' and (i - 1) not in cut:
        cut.add(i - 1)

    def string_at(start):
        end = min(c for c in cut if c >= start)
        return args[start:end]

    param = string_at(0)
    value = string_at(value_start) if value_start is not None else None
    following = pos + i + 1 if i < len(args) else pos + i
    return param, value, skip_spaces(text, following)


def split_args(text, pos=0):
    """The (param, value) pairs parse_args() hands on from ``pos``, and where it stopped.

    The second item is the position after a lone ``--`` (the rest is init's), or None
    when the line ended first.
    """
    pairs = []
    pos = skip_spaces(text, pos)
    while pos < len(text):
        param, value, pos = next_arg(text, pos)
        if value is None and param == '--':
            return pairs, pos
        pairs.append((param, value))
    return pairs, None


class Cmdline(object):
    """A parsed command line: kernel parameters in order, then init's arguments."""

    def __init__(self, raw, params, init_args):
        self.raw = raw
        self.params = params  # list of (normalized name, value or None)
        self.init_args = init_args

    def values(self, name):
        """Every value given for ``name`` (None for a bare flag), in order."""
        wanted = normalize_name(name)
        return [value for key, value in self.params if key == wanted]

    def has(self, name):
        return bool(self.values(name))

    def get(self, name, default=None):
        """The value the kernel acts on (the last one), or ``default`` when absent."""
        found = self.values(name)
        return found[-1] if found else default

    def to_dict(self):
        """Name -> last value ('' for a bare flag), as a fact."""
        result = {}
        for key, value in self.params:
            result[key] = '' if value is None else value
        return result


def parse_cmdline(text):
    """Parse /proc/cmdline (or a command line an admin wants to set)."""
    if isinstance(text, bytes):
        text = text.decode('latin-1')  # one character per byte, as the kernel reads it
    text = text.split('\x00', 1)[0]
    pairs, rest = split_args(text)
    init_args = []
    if rest is not None:
        # init/main.c parses the rest the same way and rejoins param=value (repair_env_string).
        init_pairs, _dropped = split_args(text, rest)
        init_args = [param if value is None else '%s=%s' % (param, value) for param, value in init_pairs]
    params = [(normalize_name(param), value) for param, value in pairs]
    return Cmdline(text.strip('\n '), params, init_args)


def format_param(name, value):
    """Render one parameter so that parse_cmdline() reads it back unchanged.

    The kernel has no escape character: a value with a double quote or a NUL cannot be
    written, and one with white space is quoted as a whole.
    """
    try:
        require('param_name', name, 'the name')
    except ValidationError as exc:
        raise ValueError(str(exc))
    if value is None:
        return name
    if '"' in value or '\x00' in value:
        raise ValueError('%s: a value with a double quote or a NUL cannot be written on a kernel command line' % name)
    if value == '' or any(c in KERNEL_SPACE for c in value):
        return '%s="%s"' % (name, value)
    return '%s=%s' % (name, value)


# ---------------------------------------------------------------- command lines as tokens, for editing

def split_tokens(text):
    """Split a command line into raw tokens by the kernel's rules (white space outside double quotes)."""
    tokens = []
    current = []
    in_quote = False
    for char in text:
        if char.isspace() and not in_quote:
            if current:
                tokens.append(''.join(current))
                current = []
            continue
        if char == '"':
            in_quote = not in_quote
        current.append(char)
    if current:
        tokens.append(''.join(current))
    return tokens


def token_param(token):
    """(canonical name, value) of one raw token; value None for a bare flag."""
    parsed = parse_cmdline(token).params
    if not parsed:
        return None, None
    return parsed[0]


def edit_tokens(tokens, params, place):
    """Tokens with the managed parameters applied.

    Every token of a managed name goes, except the first one of a present
    parameter that already has the wanted value (so a host that is right is left
    byte for byte). With ``place`` the present parameters that are missing are
    appended, before a ``--`` (what follows it belongs to init).
    """
    managed = dict((param.key, param) for param in params)
    try:
        dashes = tokens.index('--')
    except ValueError:
        dashes = len(tokens)
    head, tail = tokens[:dashes], tokens[dashes:]
    kept = []
    placed = set()
    for token in head:
        key, value = token_param(token)
        param = managed.get(key)
        if param is None:
            kept.append(token)
        elif place and param.state == 'present' and key not in placed and value == param.value:
            kept.append(token)
            placed.add(key)
    if place:
        kept.extend(param.render() for param in params if param.state == 'present' and param.key not in placed)
    return kept + tail


def release_of_kernel_path(path):
    """'6.12.117-hyperion' from '/boot/vmlinuz-6.12.117-hyperion' (Arch: the pkgbase, 'linux-lts').

    The image path of a linux line, a BLS entry or grubby's kernel=, whichever bootloader names it.
    """
    base = os.path.basename(path or '')
    for prefix in ('vmlinuz-', 'vmlinux-', 'kernel-', 'bzImage-'):
        if base.startswith(prefix):
            return base[len(prefix):]
    return base or None
