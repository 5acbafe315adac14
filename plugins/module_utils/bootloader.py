# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Persistent kernel parameters: plan the edits for one bootloader, then apply them.

``plan_cmdline()`` reads the bootloader's files below ``root`` and its tools'
output through ``run`` (a callable taking an argv list and returning
``(rc, stdout, stderr)``) and returns a ``Plan``: the file writes and command
runs that would make every managed parameter reach the next boot, the next
boot's and the running kernel's values, and a diff of every file. Nothing is
changed until ``apply_plan()``; check mode stops after planning. An empty plan
means the host already has what was asked for.

Supported bootloaders:
- ``grub``: where grub-mkconfig sources ``/etc/default/grub.d/*.cfg`` (Debian,
  Ubuntu) the parameters go into a drop-in appending to GRUB_CMDLINE_LINUX, and
  managed names are taken out of /etc/default/grub; elsewhere (Arch, upstream
  GRUB) GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub is edited. Then
  update-grub or grub-mkconfig regenerates grub.cfg.
- ``grubby``: BLS entries on Fedora/EL through ``grubby --update-kernel=ALL``.
- ``systemd-boot``: the ``options`` lines of every Type #1 entry on the ESP
  (and XBOOTLDR) plus /etc/kernel/cmdline, which kernel-install uses for kernels
  installed later.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re
import shutil
import tempfile

from .cmdline import KERNEL_SPACE, normalize_name, parse_cmdline
from .errors import HyperionError
from .validation import ValidationError, bounded_int, describe, require
from .host import BIN_DIRS, ESP_CANDIDATES, Host, atomic_write, find_entry_dirs, read_file
from .host import detect_bootloader as host_detect_bootloader

BOOTLOADERS = ('grub', 'grubby', 'systemd-boot')
DEFAULT_GRUB_DROPIN = '90-hyperion-kernel.cfg'
STATES = ('present', 'absent')
# Values land in shell-sourced files (/etc/default/grub*), in GRUB's own script (grub.cfg, where
# grub-mkconfig copies them unquoted onto the linux line), in grubby's argv and in Type #1 entries.
# GRUB's lexer (grub-core/script/yylex.l) ends a word at white space and at { } | & $ ; < >, and
# treats quotes and backslash as quoting; sh adds the backtick. '#' starts a comment only at the
# start of a word, which a value never is: it follows "name=" and names start with a letter or digit.
# For the same reason '*' and '?' stay: GRUB's wildcard expansion (commands/wildcard.c, with the
# regexp module loaded) only expands words that start with '/', '(' or '*'.
FORBIDDEN_VALUE_CHARS = {'"': 'a double quote', "'": 'a single quote', '$': 'a dollar sign', '`': 'a backtick',
                         '\\': 'a backslash', ';': 'a semicolon', '&': 'an ampersand', '|': 'a pipe',
                         '<': 'a less-than sign', '>': 'a greater-than sign', '{': 'an opening brace',
                         '}': 'a closing brace'}
# kernel/panic.c waits "for (i = 0; i < panic_timeout * 1000; ...)" with an int panic_timeout: above
# INT_MAX / 1000 the product overflows and the wait is skipped; above INT_MAX, kstrtoint() refuses the
# value and panic_timeout keeps CONFIG_PANIC_TIMEOUT (0 on Debian: never reboot). 0 means never
# reboot, a negative value reboots at once (any int).
PANIC_MAX = 2147483647 // 1000
PANIC_MIN = -2147483648
# COMMAND_LINE_SIZE of arch/*/include/{uapi/,}asm/setup.h (Linux 6.12) by uname -m; other
# architectures get asm-generic's 512. The kernel keeps COMMAND_LINE_SIZE - 1 bytes and drops the rest
# (x86's boot protocol says so in cmdline_size), so a parameter past the end is silently lost.
COMMAND_LINE_SIZES = {'x86_64': 2048, 'i386': 2048, 'i486': 2048, 'i586': 2048, 'i686': 2048,
                      'aarch64': 2048, 'arm64': 2048, 'ppc64le': 2048, 'ppc64': 2048, 'ppc': 2048,
                      'sparc64': 2048, 'armv6l': 1024, 'armv7l': 1024, 'armv8l': 1024, 'riscv64': 1024,
                      'parisc64': 1024, 'mips': 4096, 'mips64': 4096, 's390x': 4096}
GENERIC_COMMAND_LINE_SIZE = 512
# Stand-ins where the host cannot tell: a 64-character release and a root=UUID=... .
_IMAGE_GUESS = '/boot/vmlinuz-' + 'x' * 64
_ROOT_GUESS = 'UUID=' + 'x' * 36
GRUB_VARIABLES = ('GRUB_CMDLINE_LINUX', 'GRUB_CMDLINE_LINUX_DEFAULT')
_ASSIGNMENT_RE = re.compile(r'(?P<lead>\s*(?:export\s+)?)(?P<var>GRUB_CMDLINE_LINUX(?:_DEFAULT)?)=(?P<rhs>.*)')
# The right-hand sides this module rewrites: one quoted string or one bare word, then an optional comment.
_SIMPLE_RHS_RE = re.compile(r'(?:"(?P<dq>[^"\\`]*)"|\'(?P<sq>[^\']*)\'|(?P<bare>[^\s"\'\\`;&|<>#]*))(?P<tail>\s*(?:#.*)?)')
# An options line of a Type #1 entry: the keyword alone or followed by white space (and the newline).
_OPTIONS_LINE_RE = re.compile(r'\s*options(\s.*)?', re.S)
DROPIN_HEADER = ('# Managed by hyperion.kernel.kernel_cmdline: kernel parameters for every boot entry.\n'
                 '# Set them through the module; edits here are overwritten.\n')


class CmdlineError(HyperionError):
    """A parameter, a bootloader file or a bootloader command the module cannot work with."""


class Param(object):
    """One managed parameter: the name as given, its canonical key, value (None = bare flag), state."""

    def __init__(self, name, value, state):
        self.name = name
        self.key = normalize_name(name)
        self.value = value
        self.state = state

    def render(self):
        return self.name if self.value is None else '%s=%s' % (self.name, self.value)


def value_problem(value):
    """What makes VALUE unfit for a kernel command line written by this module, or None."""
    for char in value:
        if char in FORBIDDEN_VALUE_CHARS:
            return FORBIDDEN_VALUE_CHARS[char]
        if char in '\r\n':
            return 'a newline'
        if char in KERNEL_SPACE:
            return 'white space'
        if ord(char) < 0x20 or 0x7f <= ord(char) < 0xa0:
            return 'a control character'
        if char.isspace():
            return 'white space'
        if ord(char) > 0x7e:
            # The kernel splits the line at byte 0xA0 (lib/ctype.c), which many UTF-8 characters contain.
            return 'a character outside printable ASCII (%s)' % describe(char)
    return None


def validate_params(params):
    """Check every parameter before anything is read or changed; returns Param objects.

    Each entry is a dict with ``name``, optional ``value`` (None or missing = bare
    flag) and optional ``state`` (present, the default, or absent).
    """
    if not params:
        raise CmdlineError('params is empty: give at least one parameter to manage')
    result = []
    seen = {}
    for index, entry in enumerate(params):
        where = 'params[%d]' % index
        if not isinstance(entry, dict):
            raise CmdlineError('%s must be a dictionary with name, value and state, got %r' % (where, entry))
        name = entry.get('name')
        try:
            # '--' would hand the rest of the line to init; '=' or a blank would split the name.
            require('param_name', name, '%s: name' % where)
        except ValidationError as exc:
            raise CmdlineError(str(exc))
        state = entry.get('state') or 'present'
        if state not in STATES:
            raise CmdlineError('%s (%s): state %r is not one of %s' % (where, name, state, ', '.join(STATES)))
        value = entry.get('value')
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise CmdlineError('%s (%s): value must be a string, got %r' % (where, name, value))
            value = str(value)
            problem = value_problem(value)
            if problem:
                raise CmdlineError('%s (%s): value %s contains %s; values end up in shell-sourced files and '
                                   'bootloader scripts, where it would be interpreted' % (where, name, describe(value), problem))
            if normalize_name(name) == 'panic':
                try:
                    bounded_int(value, '%s (%s): value' % (where, name), PANIC_MIN, PANIC_MAX,
                                "kernel/panic.c waits panic * 1000 ms in an int; 0 never reboots, below 0 reboots at once")
                except ValidationError as exc:
                    raise CmdlineError(str(exc))
                # param_set_int() reads with kstrtoint(val, 0): "010" would be 8 seconds, not 10.
                if re.fullmatch(r'[+-]?0[0-9]+', value):
                    raise CmdlineError('%s (%s): value %s has a leading 0, which the kernel reads as octal; write it '
                                       'without' % (where, name, describe(value)))
        if state == 'present' and value is None and normalize_name(name) == 'panic':
            # parse_one() refuses a bare int parameter, and panic_timeout keeps CONFIG_PANIC_TIMEOUT (0 on Debian).
            raise CmdlineError('%s (%s): panic needs a value, the seconds before a panicking kernel reboots' % (where, name))
        if state == 'absent' and value is not None:
            raise CmdlineError('%s (%s): an absent parameter takes no value (every value of the name is removed)'
                               % (where, name))
        param = Param(name, value, state)
        if param.key in seen:
            other = seen[param.key]
            if other.state != param.state:
                raise CmdlineError('%s is both present and absent in params; give it once' % name)
            raise CmdlineError('%s is given twice in params (the kernel treats - and _ alike); give it once' % name)
        seen[param.key] = param
        result.append(param)
    return result


# ---------------------------------------------------------------- command lines as tokens

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


def managed_values(text, params):
    """Name -> value (None for a bare flag) of each managed parameter present in a command line."""
    parsed = parse_cmdline(text or '')
    result = {}
    for param in params:
        found = parsed.values(param.key)
        if found:
            result[param.name] = found[-1]
    return result


def _render_value(name, values, key):
    if key not in values:
        return None
    return name if values[key] is None else '%s=%s' % (name, values[key])


def difference(params, current, next_boot):
    """Per managed parameter: how the running kernel and the next boot have it (None = absent)."""
    result = {}
    for param in params:
        now = _render_value(param.name, current, param.name) if current is not None else None
        then = _render_value(param.name, next_boot, param.name)
        result[param.name] = {'current': now, 'next_boot': then,
                              'differs': current is None or now != then}
    return result


# ---------------------------------------------------------------- plans

class FileChange(object):
    """A whole-file write (``after`` None = remove the file)."""

    def __init__(self, path, before, after, reason):
        self.path = path
        self.before = before
        self.after = after
        self.reason = reason

    def action(self):
        return {'action': 'remove' if self.after is None else 'write', 'path': self.path, 'reason': self.reason}

    def diff(self):
        return {'before_header': self.path, 'after_header': self.path,
                'before': self.before or '', 'after': self.after or ''}


class FilePlan(object):
    """The writes and commands of a plan; kernel_cmdline's and boot_entry's plans both build on it."""

    def __init__(self, bootloader, root):
        self.bootloader = bootloader
        self.root = root
        self.files = []
        self.commands = []  # (argv, reason)
        self.details = {}
        self.host = None

    def add_file(self, path, before, after, reason):
        if before != after:
            self.files.append(FileChange(path, before, after, reason))

    @property
    def actions(self):
        result = [change.action() for change in self.files]
        result.extend({'action': 'run', 'argv': list(argv), 'reason': reason} for argv, reason in self.commands)
        return result

    @property
    def changed(self):
        return bool(self.files or self.commands)

    def diffs(self):
        return [change.diff() for change in self.files]


class Plan(FilePlan):
    def __init__(self, bootloader, params, root):
        super(Plan, self).__init__(bootloader, root)
        self.params = params
        self.next_boot = {}
        self.current = None
        self.full_lines = []  # (where, the whole command line the kernel would get)

    @property
    def reboot_required(self):
        if self.current is None:
            return self.changed
        return any(item['differs'] for item in difference(self.params, self.current, self.next_boot).values())

    def result(self):
        return {'bootloader': self.bootloader, 'actions': self.actions, 'changed': self.changed,
                'next_boot': self.next_boot, 'current': self.current,
                'cmdline_difference': difference(self.params, self.current, self.next_boot),
                'reboot_required': self.reboot_required, 'details': self.details}


def read_current(host, params):
    raw = host.read('proc/cmdline')
    if raw is None:
        return None
    return managed_values(raw, params)


# ---------------------------------------------------------------- GRUB

def _grub_assignments(text):
    """(line index, variable, match of the simple right-hand side or None, line) of each cmdline assignment."""
    found = []
    for index, line in enumerate(text.splitlines(True)):
        match = _ASSIGNMENT_RE.fullmatch(line.rstrip('\n'))
        if match:
            found.append((index, match.group('var'), match, _SIMPLE_RHS_RE.fullmatch(match.group('rhs'))))
    return found


def _mentions(text, params):
    """Managed parameters whose name appears as a word in ``text``."""
    words = set(token_param(token)[0] for token in re.split(r'[\s"\']+', text) if token)
    return [param.name for param in params if param.key in words]


def _simple_value(rhs):
    for group in ('dq', 'sq', 'bare'):
        if rhs.group(group) is not None:
            return group, rhs.group(group)
    return None, None


def _rewrite_assignment(match, rhs, tokens):
    style, _value = _simple_value(rhs)
    joined = ' '.join(tokens)
    if style == 'sq':
        quoted = "'%s'" % joined
    elif style == 'bare' and joined and ' ' not in joined:
        quoted = joined
    else:
        quoted = '"%s"' % joined
    return '%s%s=%s%s' % (match.group('lead'), match.group('var'), quoted, rhs.group('tail'))


def edit_grub_file(text, path, params, place_in=None):
    """/etc/default/grub with managed parameters taken out of every cmdline assignment.

    ``place_in`` (a variable name) receives the present parameters on its last
    assignment, or on a new line at the end when the file has none.
    """
    lines = text.splitlines(True)
    assignments = _grub_assignments(text)
    last = None
    if place_in:
        for index, var, _match, _rhs in assignments:
            if var == place_in:
                last = index
    for index, var, match, rhs in assignments:
        if rhs is None:
            mentioned = _mentions(match.group('rhs'), params)
            if mentioned:
                raise CmdlineError('%s line %d sets %s in a form this module does not rewrite (%s); move %s out of '
                                   'it by hand' % (path, index + 1, var, match.group('rhs').strip(), ', '.join(mentioned)))
            continue
        _style, value = _simple_value(rhs)
        tokens = split_tokens(value)
        edited = edit_tokens(tokens, params, place=(index == last))
        if edited != tokens:
            newline = '\n' if lines[index].endswith('\n') else ''
            lines[index] = _rewrite_assignment(match, rhs, edited) + newline
    result = ''.join(lines)
    if place_in and last is None:
        wanted = [param.render() for param in params if param.state == 'present']
        if wanted:
            if result and not result.endswith('\n'):
                result += '\n'
            result += '%s="%s"\n' % (place_in, ' '.join(wanted))
    return result


def _dropin_tokens(text):
    tokens = []
    for _index, _var, match, rhs in _grub_assignments(text or ''):
        value = _simple_value(rhs)[1] if rhs is not None else match.group('rhs')
        tokens.extend(token for token in split_tokens(value) if 'GRUB_CMDLINE_LINUX' not in token)
    return tokens


def render_dropin(tokens):
    return DROPIN_HEADER + 'GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} %s"\n' % ' '.join(tokens)


def run_sourced(host, files, then):
    """Output of the shell code ``then`` after sourcing ``files`` in order with /bin/sh, as grub-mkconfig does.

    ``files`` is a list of (path, text); each text is written to a private
    temporary file first, so planned contents are sourced without touching the
    real ones.
    """
    workdir = tempfile.mkdtemp(prefix='hyperion-grub-')
    try:
        paths = []
        for number, (_path, text) in enumerate(files):
            temp = os.path.join(workdir, '%03d.cfg' % number)
            with open(temp, 'w') as handle:
                handle.write(text)
            paths.append(temp)
        script = 'for f in "$@"; do . "$f" || exit 1; done; ' + then
        return host.run(['sh', '-c', script, 'sh'] + paths, 'sourcing %s' % ', '.join(path for path, _text in files))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def source_grub_files(host, files):
    """GRUB_CMDLINE_LINUX and _DEFAULT after sourcing ``files`` ((path, text) pairs); see run_sourced()."""
    out = run_sourced(host, files, 'printf "GRUB_CMDLINE_LINUX=%s\\nGRUB_CMDLINE_LINUX_DEFAULT=%s\\n" '
                                   '"$GRUB_CMDLINE_LINUX" "$GRUB_CMDLINE_LINUX_DEFAULT"')
    values = dict((var, '') for var in GRUB_VARIABLES)
    for line in out.splitlines():
        var, _sep, value = line.partition('=')
        if var in values:
            values[var] = value
    return values


def grub_sources_dropins(host):
    """Whether this system's grub-mkconfig sources /etc/default/grub.d/*.cfg (a Debian patch)."""
    for name in ('grub-mkconfig', 'grub2-mkconfig'):
        tool = host.find_tool(name)
        if tool:
            return 'default/grub.d' in (host.read(tool) or '')
    return os.path.isdir(host.path('etc/default/grub.d'))


def grub_regenerate_command(host):
    if host.find_tool('update-grub'):
        return ['update-grub']
    if host.find_tool('grub-mkconfig'):
        return ['grub-mkconfig', '-o', '/boot/grub/grub.cfg']
    if host.find_tool('grub2-mkconfig'):
        return ['grub2-mkconfig', '-o', '/boot/grub2/grub.cfg']
    raise CmdlineError('no update-grub, grub-mkconfig or grub2-mkconfig in %s to regenerate grub.cfg'
                       % ', '.join('/' + d for d in BIN_DIRS))


def _grub_cfg_is_stale(host, paths):
    """grub.cfg older than a file it is generated from: a previous regeneration did not happen."""
    for cfg in ('boot/grub/grub.cfg', 'boot/grub2/grub.cfg'):
        if os.path.exists(host.path(cfg)):
            generated = os.stat(host.path(cfg)).st_mtime
            return any(os.path.exists(host.path(p)) and os.stat(host.path(p)).st_mtime > generated for p in paths)
    return False


def plan_grub(host, params, dropin_name=DEFAULT_GRUB_DROPIN, update=True):
    plan = Plan('grub', params, host.root)
    main_rel = '/etc/default/grub'
    main_text = host.read(main_rel)
    if main_text is None:
        raise CmdlineError('%s does not exist: is GRUB configured on this system?' % host.path(main_rel))
    dropin_rel = '/etc/default/grub.d/' + dropin_name
    if grub_sources_dropins(host):
        plan.details['grub_config'] = 'dropin'
        new_main = edit_grub_file(main_text, host.path(main_rel), params)
        plan.add_file(host.path(main_rel), main_text, new_main, 'take the managed parameters out of GRUB_CMDLINE_LINUX*')
        dropin_dir = host.path('/etc/default/grub.d')
        others = sorted(glob.glob(os.path.join(dropin_dir, '*.cfg')))
        for other in others:
            if os.path.basename(other) == dropin_name:
                continue
            text = read_file(other) or ''
            for index, var, match, _rhs in _grub_assignments(text):
                mentioned = _mentions(match.group('rhs'), params)
                if mentioned:
                    raise CmdlineError('%s line %d also sets %s in %s; remove it there (or manage it with this '
                                       'module in that file by setting grub_dropin) so the parameter has one owner'
                                       % (other, index + 1, ', '.join(mentioned), var))
        old_dropin = host.read(dropin_rel)
        tokens = edit_tokens(_dropin_tokens(old_dropin), params, place=True)
        new_dropin = render_dropin(tokens) if tokens else None
        if old_dropin is not None and new_dropin is not None and _dropin_tokens(old_dropin) == tokens:
            new_dropin = old_dropin  # right already; keep the file as it is
        plan.add_file(host.path(dropin_rel), old_dropin, new_dropin,
                      'GRUB_CMDLINE_LINUX drop-in with the managed parameters')
        planned = dict((change.path, change.after) for change in plan.files)
        names = sorted(set([os.path.basename(p) for p in others] + ([dropin_name] if new_dropin else [])))
        sourced = [(host.path(main_rel), planned.get(host.path(main_rel), main_text))]
        for name in names:
            path = os.path.join(dropin_dir, name)
            text = planned[path] if path in planned else read_file(path)
            if text is not None:
                sourced.append((path, text))
        inputs = [main_rel, dropin_rel]
    else:
        plan.details['grub_config'] = 'main_file'
        new_main = edit_grub_file(main_text, host.path(main_rel), params, place_in='GRUB_CMDLINE_LINUX_DEFAULT')
        plan.add_file(host.path(main_rel), main_text, new_main, 'managed parameters in GRUB_CMDLINE_LINUX_DEFAULT')
        sourced = [(host.path(main_rel), new_main)]
        inputs = [main_rel]
    values = source_grub_files(host, sourced)
    plan.details['grub_cmdline'] = values
    # grub-mkconfig's 10_linux gives normal entries "$GRUB_CMDLINE_LINUX $GRUB_CMDLINE_LINUX_DEFAULT".
    effective = '%s %s' % (values['GRUB_CMDLINE_LINUX'], values['GRUB_CMDLINE_LINUX_DEFAULT'])
    plan.next_boot = managed_values(effective, params)
    # 10_linux writes "linux <image> root=<device> ro <args>" and GRUB puts BOOT_IMAGE=<image> first.
    plan.full_lines.append(('the GRUB linux line', ' '.join(_grub_line_prefix(host) + split_tokens(effective))))
    _check_next_boot(plan, 'after sourcing /etc/default/grub%s' % (' and grub.d/*.cfg' if len(sourced) > 1 else ''))
    if update and (plan.files or _grub_cfg_is_stale(host, inputs)):
        plan.commands.append((host.command(grub_regenerate_command(host)), 'regenerate grub.cfg'))
    return plan


def _check_next_boot(plan, how):
    """Refuse a plan whose result would not be what was asked (another file overriding ours, ...)."""
    for param in plan.params:
        have = plan.next_boot.get(param.name, Ellipsis)
        if param.state == 'present' and have != param.value:
            got = 'absent' if have is Ellipsis else _render_value(param.name, plan.next_boot, param.name)
            raise CmdlineError('%s: the next boot would have %s, not %s; something else sets the kernel command '
                               'line (sourced: %s)' % (how, got, param.render(), plan.details.get('grub_cmdline')))
        if param.state == 'absent' and have is not Ellipsis:
            raise CmdlineError('%s: the next boot would still have %s; something else sets the kernel command line '
                               '(sourced: %s)' % (how, _render_value(param.name, plan.next_boot, param.name),
                                                  plan.details.get('grub_cmdline')))


# ---------------------------------------------------------------- grubby

def parse_grubby_info(text):
    """Entries of ``grubby --info=ALL``: a list of dicts (index, kernel, args, root, initrd, title, id)."""
    entries = []
    current = None
    for line in text.splitlines():
        key, sep, value = line.partition('=')
        if not sep:
            continue
        key = key.strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if key == 'index':
            current = {'index': value}
            entries.append(current)
        elif current is not None:
            current[key] = value
    return entries


def plan_grubby(host, params):
    plan = Plan('grubby', params, host.root)
    entries = [entry for entry in parse_grubby_info(host.run(host.command(['grubby', '--info=ALL']), 'reading boot entries'))
               if entry.get('kernel') and 'args' in entry]
    if not entries:
        raise CmdlineError('grubby --info=ALL lists no boot entry with a kernel')
    add = []
    remove = []
    for param in params:
        for entry in entries:
            tokens = split_tokens(entry['args'])
            if edit_tokens(tokens, [param], place=True) != tokens:
                # grubby --args=name=value does not replace a bare "name" flag: remove it first.
                if any(token_param(t)[0] == param.key for t in tokens) and param.name not in remove:
                    remove.append(param.name)
                if param.state == 'present' and param.render() not in add:
                    add.append(param.render())
    default = entries[0]
    rc_out = host.run_callable(host.command(['grubby', '--default-index'])) if host.run_callable else (1, '', '')
    if rc_out[0] == 0:
        for entry in entries:
            if entry['index'] == rc_out[1].strip():
                default = entry
    plan.details['entries'] = [dict((k, entry.get(k)) for k in ('index', 'kernel', 'args', 'title')) for entry in entries]
    plan.details['default_kernel'] = default['kernel']
    plan.next_boot = managed_values(' '.join(edit_tokens(split_tokens(default['args']), params, place=True)), params)
    for entry in entries:
        # GRUB's blscfg puts BOOT_IMAGE=<kernel> before the entry's args.
        tokens = ['BOOT_IMAGE=' + entry['kernel']] + edit_tokens(split_tokens(entry['args']), params, place=True)
        plan.full_lines.append(('grubby entry %s' % entry['index'], ' '.join(tokens)))
    if add or remove:
        argv = ['grubby', '--update-kernel=ALL']
        if add:
            argv.append('--args=' + ' '.join(add))
        if remove:
            argv.append('--remove-args=' + ' '.join(remove))
        plan.commands.append((host.command(argv), 'set the managed parameters in every boot entry'))
    return plan


# ---------------------------------------------------------------- systemd-boot

def edit_entry(text, params):
    """A Type #1 entry with the managed parameters applied to its options lines (last one gets them)."""
    lines = text.splitlines(True)
    option_lines = [i for i, line in enumerate(lines) if _OPTIONS_LINE_RE.fullmatch(line)]
    for i in option_lines:
        body = lines[i].rstrip('\n')
        match = re.fullmatch(r'(\s*options)(\s*)(.*)', body)
        tokens = split_tokens(match.group(3))
        edited = edit_tokens(tokens, params, place=(i == option_lines[-1]))
        if edited != tokens:
            lines[i] = '%s%s%s%s' % (match.group(1), match.group(2) or ' ', ' '.join(edited),
                                     '\n' if lines[i].endswith('\n') else '')
    result = ''.join(lines)
    if not option_lines:
        wanted = [param.render() for param in params if param.state == 'present']
        if wanted:
            if result and not result.endswith('\n'):
                result += '\n'
            result += 'options %s\n' % ' '.join(wanted)
    return result


def entry_options(text):
    return ' '.join(re.sub(r'^\s*options\s*', '', line) for line in text.splitlines()
                    if _OPTIONS_LINE_RE.fullmatch(line))


def kernel_install_cmdline(host):
    """What kernel-install would use for a new kernel: /etc/kernel/cmdline, /usr/lib/kernel/cmdline, /proc/cmdline."""
    for rel in ('etc/kernel/cmdline', 'usr/lib/kernel/cmdline'):
        text = host.read(rel)
        if text is not None:
            return rel, text
    proc = host.read('proc/cmdline') or ''
    tokens = [t for t in split_tokens(proc) if token_param(t)[0] not in ('BOOT_IMAGE', 'initrd')]
    return 'proc/cmdline', ' '.join(tokens) + '\n'


def plan_systemd_boot(host, params):
    plan = Plan('systemd-boot', params, host.root)
    entry_dirs = find_entry_dirs(host)
    entry_files = []
    for directory in entry_dirs:
        entry_files.extend(sorted(glob.glob(os.path.join(directory, '*.conf')), reverse=True))
    source, text = kernel_install_cmdline(host)
    tokens = split_tokens(text.strip())
    edited = edit_tokens(tokens, params, place=True)
    new_text = text if edited == tokens else ' '.join(edited) + '\n'
    plan.add_file(host.path('/etc/kernel/cmdline'), host.read('etc/kernel/cmdline'), new_text,
                  'command line for kernels installed later (kernel-install; was read from /%s)' % source)
    plan.details['entry_dirs'] = entry_dirs
    plan.details['entries'] = entry_files
    next_options = None
    for path in entry_files:
        with open(path) as handle:
            before = handle.read()
        after = edit_entry(before, params)
        plan.add_file(path, before, after, 'options of boot entry %s' % os.path.basename(path))
        if next_options is None:
            next_options = entry_options(after)
    # Without an entry yet, the next kernel installed gets /etc/kernel/cmdline.
    plan.next_boot = managed_values(next_options if next_options is not None else new_text, params)
    # kernel-install's 90-loaderentry adds systemd.machine_id=<32 hex digits> when it is missing.
    install_tokens = split_tokens(new_text)
    if not any(token.startswith('systemd.machine_id=') for token in install_tokens):
        install_tokens.append('systemd.machine_id=' + 'x' * 32)
    plan.full_lines.append(('/etc/kernel/cmdline for kernels installed later', ' '.join(install_tokens)))
    for change in plan.files:
        if change.path in entry_files:
            # systemd-boot adds initrd=<path> for each initrd line of a Type #1 entry.
            initrds = ['initrd=' + line.split(None, 1)[1].strip() for line in change.after.splitlines()
                       if re.fullmatch(r'\s*initrd\s+\S.*', line)]
            plan.full_lines.append(('boot entry %s' % os.path.basename(change.path),
                                    ' '.join(split_tokens(entry_options(change.after)) + initrds)))
    return plan


# ---------------------------------------------------------------- detection, planning, applying

def detect_bootloader(host):
    """The bootloader managing this system, or a CmdlineError listing what was looked for."""
    found = host_detect_bootloader(host)
    if found:
        return found
    raise CmdlineError(
        'cannot tell which bootloader manages %s; looked for grubby with /boot/loader/entries (Fedora, EL), '
        'systemd-boot (EFI/systemd/systemd-boot*.efi and loader/entries under %s) and GRUB (/etc/default/grub '
        'and update-grub or grub-mkconfig in %s); set bootloader to one of %s'
        % (host.root, ', '.join('/' + c for c in ESP_CANDIDATES), ', '.join('/' + d for d in BIN_DIRS),
           ', '.join(BOOTLOADERS)))


def module_argument_spec(grub_dropin):
    """The options kernel_cmdline and boot_entry share, as AnsibleModule takes them; only the drop-in name differs."""
    return dict(
        bootloader=dict(type='str', choices=['auto'] + list(BOOTLOADERS), default='auto'),
        grub_dropin=dict(type='str', default=grub_dropin),
        update=dict(type='bool', default=True),
        root=dict(type='path', default='/'),
    )


def module_plan_options(args, run):
    """Those options as the keyword arguments of plan_cmdline() and plan_boot_entry()."""
    return dict(bootloader=args['bootloader'], root=args['root'], run=run,
                grub_dropin=args['grub_dropin'], update=args['update'])


def command_line_size():
    """(COMMAND_LINE_SIZE, machine) of the kernel that boots: this machine's architecture (an image below
    another root is taken to be for it too)."""
    machine = os.uname()[4]
    return COMMAND_LINE_SIZES.get(machine, GENERIC_COMMAND_LINE_SIZE), machine


def check_length(plan, size_and_machine):
    """Refuse a change after which a boot entry's whole command line is longer than the kernel keeps."""
    size, machine = size_and_machine
    limit = size - 1
    lengths = [(len(text.encode('utf-8')), where) for where, text in plan.full_lines]
    longest = max(lengths) if lengths else (0, None)
    plan.details['command_line_length'] = {'longest': longest[0], 'where': longest[1], 'limit': limit}
    if plan.changed and longest[0] > limit:
        raise CmdlineError('%s would be %d bytes long; the kernel on %s keeps %d (COMMAND_LINE_SIZE %d) and '
                           'drops the rest, parameters included; shorten the command line'
                           % (longest[1], longest[0], machine, limit, size))


def _grub_line_prefix(host):
    """BOOT_IMAGE=, root= and ro as grub-mkconfig and GRUB put them before the variables' parameters.

    The running kernel's /proc/cmdline gives root= (and rootflags=); the image is the longest of its
    BOOT_IMAGE and the kernels in /boot, as a newer kernel may have a longer release.
    """
    running = split_tokens(host.read('proc/cmdline') or '')
    values = dict((token.split('=', 1)[0], token.split('=', 1)[1]) for token in running if '=' in token)
    images = [values['BOOT_IMAGE']] if 'BOOT_IMAGE' in values else []
    images.extend('/boot/' + os.path.basename(path) for path in glob.glob(host.path('boot/vmlinuz-*')))
    image = max(images, key=len) if images else _IMAGE_GUESS
    prefix = ['BOOT_IMAGE=' + image, 'root=' + values.get('root', _ROOT_GUESS), 'ro']
    return prefix + [token for token in running if token.startswith('rootflags=')]


def check_dropin_name(name, error=None):
    """Refuse a drop-in name grub-mkconfig would not source (it reads /etc/default/grub.d/*.cfg only)."""
    try:
        return require('grub_dropin', name, 'grub_dropin')
    except ValidationError as exc:
        raise (error or CmdlineError)('%s; grub-mkconfig sources only /etc/default/grub.d/*.cfg' % exc)


def plan_cmdline(params, bootloader='auto', root='/', run=None, grub_dropin=DEFAULT_GRUB_DROPIN, update=True):
    """Validate, read and plan; see the module documentation of kernel_cmdline."""
    checked = validate_params(params)
    check_dropin_name(grub_dropin, CmdlineError)
    if not os.path.isdir(root):
        raise CmdlineError('root %s is not a directory' % root)
    host = Host(root, run, CmdlineError)
    if bootloader == 'auto':
        bootloader = detect_bootloader(host)
    if bootloader == 'grub':
        plan = plan_grub(host, checked, grub_dropin, update)
    elif bootloader == 'grubby':
        plan = plan_grubby(host, checked)
    elif bootloader == 'systemd-boot':
        plan = plan_systemd_boot(host, checked)
    else:
        raise CmdlineError('bootloader %r is not one of auto, %s' % (bootloader, ', '.join(BOOTLOADERS)))
    check_length(plan, command_line_size())
    plan.current = read_current(host, checked)
    plan.host = host
    return plan


def apply_plan(plan):
    """Make the planned changes: files first (atomically), then the regeneration commands."""
    for change in plan.files:
        try:
            if change.after is None:
                os.unlink(change.path)
            else:
                atomic_write(change.path, change.after)
        except (IOError, OSError) as exc:
            raise CmdlineError('cannot write %s: %s' % (change.path, exc.strerror or exc))
    for argv, reason in plan.commands:
        plan.host.run(argv, reason)
