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

import os
import re

from . import grub
from .cmdline import KERNEL_SPACE, edit_tokens, normalize_name, parse_cmdline, split_tokens, token_param
from .errors import HyperionError
from .validation import ValidationError, bounded_int, describe, require
from .host import BIN_DIRS, ESP_CANDIDATES, Host, atomic_write, entry_files, find_entry_dirs, read_file
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
# An options line of a Type #1 entry: the keyword alone or followed by white space (and the newline).
_OPTIONS_LINE_RE = re.compile(r'\s*options(\s.*)?', re.S)


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


# ---------------------------------------------------------------- command lines

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


def write_file_changes(changes, error):
    """Make each FileChange in order: an atomic write (parent directories made) or a removal. A failure raises
    ERROR (an exception class) naming the file; the changes before it stay made."""
    for change in changes:
        try:
            if change.after is None:
                os.unlink(change.path)
            else:
                atomic_write(change.path, change.after)
        except (IOError, OSError) as exc:
            raise error('cannot %s %s: %s' % ('remove' if change.after is None else 'write', change.path,
                                              exc.strerror or exc))


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

def plan_grub(host, params, dropin_name=DEFAULT_GRUB_DROPIN, update=True):
    plan = Plan('grub', params, host.root)
    main_text = grub.read_default_file(host)
    main_path = host.path(grub.DEFAULT_FILE)
    dropin_rel = grub.DROPIN_DIR + '/' + dropin_name
    if grub.grub_sources_dropins(host):
        plan.details['grub_config'] = 'dropin'
        new_main = grub.edit_grub_file(main_text, main_path, params, error=CmdlineError)
        plan.add_file(main_path, main_text, new_main, 'take the managed parameters out of GRUB_CMDLINE_LINUX*')
        others = grub.dropin_paths(host)
        for other in others:
            if os.path.basename(other) == dropin_name:
                continue
            text = read_file(other) or ''
            for index, var, match, _rhs in grub.assignments(text):
                mentioned = grub.mentions(match.group('rhs'), params)
                if mentioned:
                    raise CmdlineError('%s line %d also sets %s in %s; remove it there (or manage it with this '
                                       'module in that file by setting grub_dropin) so the parameter has one owner'
                                       % (other, index + 1, ', '.join(mentioned), var))
        old_dropin = host.read(dropin_rel)
        tokens = edit_tokens(grub.dropin_tokens(old_dropin), params, place=True)
        new_dropin = grub.render_dropin(tokens) if tokens else None
        if old_dropin is not None and new_dropin is not None and grub.dropin_tokens(old_dropin) == tokens:
            new_dropin = old_dropin  # right already; keep the file as it is
        plan.add_file(host.path(dropin_rel), old_dropin, new_dropin,
                      'GRUB_CMDLINE_LINUX drop-in with the managed parameters')
        planned = dict((change.path, change.after) for change in plan.files)
        names = [os.path.basename(p) for p in others] + ([dropin_name] if new_dropin else [])
        sourced = grub.sourced_files(host, main_text, names, planned)
        # The directory too: removing a drop-in (a restore does) changes what grub-mkconfig sources.
        inputs = [grub.DEFAULT_FILE, dropin_rel, grub.DROPIN_DIR]
    else:
        plan.details['grub_config'] = 'main_file'
        new_main = grub.edit_grub_file(main_text, main_path, params, place_in='GRUB_CMDLINE_LINUX_DEFAULT',
                                       error=CmdlineError)
        plan.add_file(main_path, main_text, new_main, 'managed parameters in GRUB_CMDLINE_LINUX_DEFAULT')
        sourced = grub.sourced_files(host, new_main)
        inputs = [grub.DEFAULT_FILE]
    values = grub.source_grub_files(host, sourced)
    plan.details['grub_cmdline'] = values
    effective = grub.entry_cmdline(values)
    plan.next_boot = managed_values(effective, params)
    plan.full_lines.append(('the GRUB linux line', ' '.join(grub.linux_line_prefix(host) + split_tokens(effective))))
    _check_next_boot(plan, 'after sourcing /etc/default/grub%s' % (' and grub.d/*.cfg' if len(sourced) > 1 else ''))
    if update and (plan.files or grub.cfg_is_stale(host, inputs)):
        plan.commands.append((host.command(grub.grub_regenerate_command(host)), 'regenerate grub.cfg'))
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
    entry_paths = []
    for directory in entry_dirs:
        entry_paths.extend(reversed(entry_files(directory)))
    source, text = kernel_install_cmdline(host)
    tokens = split_tokens(text.strip())
    edited = edit_tokens(tokens, params, place=True)
    new_text = text if edited == tokens else ' '.join(edited) + '\n'
    plan.add_file(host.path('/etc/kernel/cmdline'), host.read('etc/kernel/cmdline'), new_text,
                  'command line for kernels installed later (kernel-install; was read from /%s)' % source)
    plan.details['entry_dirs'] = entry_dirs
    plan.details['entries'] = entry_paths
    next_options = None
    for path in entry_paths:
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
        if change.path in entry_paths:
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


def check_dropin_name(name, error=None):
    """Refuse a drop-in name grub-mkconfig would not source (it reads /etc/default/grub.d/*.cfg only)."""
    try:
        return require('grub_dropin', name, 'grub_dropin')
    except ValidationError as exc:
        raise (error or CmdlineError)('%s; grub-mkconfig sources only /etc/default/grub.d/*.cfg' % exc)


def plan_cmdline(params, bootloader='auto', root='/', run=None, grub_dropin=DEFAULT_GRUB_DROPIN, update=True):
    """Validate, read and plan; see the module documentation of kernel_cmdline. PARAMS None manages no parameter:
    the plan only regenerates a configuration older than its sources (after a rollback restored them)."""
    checked = [] if params is None else validate_params(params)
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
    write_file_changes(plan.files, CmdlineError)
    for argv, reason in plan.commands:
        plan.host.run(argv, reason)
