# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Boot entries of installed kernels: list them, make one the default, boot one once.

``plan_boot_entry()`` reads the bootloader's state below ``root`` (and through
``run`` for tools that must be asked) and returns a ``Plan``: the entries, the
current default and next boot, and the file writes and commands that would
make ``default`` the default entry and/or boot ``once`` on the next boot only.
Nothing changes until ``apply_plan()``.

- ``grub`` (Debian, Ubuntu, Arch): entries come from grub.cfg. A kernel is
  addressed by its entry in the "Advanced options" submenu
  (``gnulinux-advanced-UUID>gnulinux-RELEASE-advanced-UUID``), which stays put when
  other kernels come and go; the top "simple" entry always boots the newest kernel
  and is never used. Both a default and a one-time boot need ``GRUB_DEFAULT=saved``:
  it is set through a drop-in in /etc/default/grub.d (where grub-mkconfig sources
  drop-ins) or in /etc/default/grub, then grub.cfg is regenerated. When GRUB is
  switched to ``saved`` without a new default, the running kernel's entry becomes the
  saved default, so the switch itself never changes which kernel boots by default.
  Then ``grub-set-default`` and ``grub-reboot`` write grubenv.
- ``grubby`` (Fedora, EL): ``grubby --info=ALL``, ``--default-kernel``,
  ``--set-default``; one-time boot through ``grub2-reboot`` with the BLS id.
- ``systemd-boot``: Type #1 entries on the ESP/XBOOTLDR; ``bootctl set-default`` and
  ``bootctl set-oneshot``; the current values are read from the EFI variables
  LoaderEntryDefault and LoaderEntryOneShot.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

from . import grub
from .bootloader import (
    BOOTLOADERS, CmdlineError, FilePlan, check_dropin_name, detect_bootloader, parse_grubby_info, write_file_changes)
from .cmdline import release_of_kernel_path
from .errors import HyperionError
from .host import Host, entry_files, find_entry_dirs
from .validation import ValidationError, require

DEFAULT_DEFAULT_DROPIN = '90-hyperion-boot-entry.cfg'
LOADER_VENDOR_GUID = '4a67b082-0a4c-41cf-b6c7-440b29bb8c4f'


class BootEntryError(HyperionError):
    """A release without an entry, a bootloader state or a tool this module cannot work with."""


def validate_release(name, value):
    if value is None:
        return None
    try:
        return require('kernel_release', value, name)
    except ValidationError as exc:
        raise BootEntryError(str(exc))


# ---------------------------------------------------------------- plans

class Plan(FilePlan):
    def __init__(self, bootloader, root):
        super(Plan, self).__init__(bootloader, root)
        self.entries = []
        self.default = None
        self.next_boot = None

    def result(self):
        return {'bootloader': self.bootloader, 'entries': self.entries, 'default': self.default,
                'next_boot': self.next_boot, 'actions': self.actions, 'changed': self.changed,
                'details': self.details}


def _public(entry):
    if entry is None:
        return None
    return dict((key, entry.get(key)) for key in ('id', 'title', 'release', 'kernel', 'kind', 'path'))


def _kernel_entry(entries, release, what, pkgbases=None):
    """The entry that boots ``release`` normally (advanced over simple; never recovery)."""
    names = set([release])
    if pkgbases and release in pkgbases:
        names.add(pkgbases[release])  # Arch: /boot/vmlinuz-<pkgbase>
    found = [entry for entry in entries if entry.get('release') in names and entry.get('kind') != 'recovery']
    found.sort(key=lambda entry: 0 if entry.get('kind') == 'advanced' else 1)
    if not found:
        known = sorted(set(entry['release'] for entry in entries if entry.get('release')))
        raise BootEntryError('%s: no boot entry boots kernel %s; the bootloader has entries for %s. Is the kernel '
                             'installed and the bootloader configuration regenerated?'
                             % (what, release, ', '.join(known) or 'no kernel at all'))
    return found[0]


def _arch_pkgbases(host):
    """release -> pkgbase from /usr/lib/modules/*/pkgbase (Arch names /boot/vmlinuz-<pkgbase>)."""
    result = {}
    for path in glob.glob(host.path('usr/lib/modules/*/pkgbase')):
        text = host.read(os.path.relpath(path, host.root)) or ''
        if text.strip():
            result[os.path.basename(os.path.dirname(path))] = text.strip()
    return result


def _running_release(host):
    text = host.read('proc/sys/kernel/osrelease')
    return text.strip() if text else None


def plan_grub(host, default, once, dropin_name, update):
    plan = Plan('grub', host.root)
    cfg_rel = grub.find_cfg(host)
    if cfg_rel is None:
        raise BootEntryError('no grub.cfg under %s (boot/grub, boot/grub2): run update-grub first' % host.root)
    entries = grub.parse_grub_cfg(host.read(cfg_rel))
    env = grub.read_grubenv(host, cfg_rel)
    pkgbases = _arch_pkgbases(host)
    for entry in entries:
        for release, base in pkgbases.items():
            if entry['release'] == base:
                entry['release'] = release
    plan.entries = [_public(entry) for entry in entries if entry['kind'] != 'other']
    main_text = grub.read_default_file(host)
    dropins = grub.grub_sources_dropins(host)
    dropin_rel = grub.DROPIN_DIR + '/' + dropin_name
    existing = [os.path.basename(path) for path in grub.dropin_paths(host)] if dropins else []
    grub_default = grub.effective_grub_default(host, grub.sourced_files(host, main_text, existing))
    saved_mode = grub_default == 'saved'
    current_value = env.get('saved_entry') if saved_mode else grub_default
    current = grub.resolve_grub_entry(entries, current_value)
    next_entry = env.get('next_entry') or None
    plan.default = _public(current)
    plan.next_boot = _public(grub.resolve_grub_entry(entries, next_entry) if next_entry else current)
    plan.details.update(grub_cfg=host.path(cfg_rel), grub_default=grub_default, saved_entry=env.get('saved_entry'),
                        next_entry=next_entry, grub_config='dropin' if dropins else 'main_file')
    if default is None and once is None:
        return plan
    want_default = _kernel_entry(entries, default, 'default', pkgbases) if default else None
    want_once = _kernel_entry(entries, once, 'once', pkgbases) if once else None
    commands = []
    if not saved_mode:
        if dropins:
            old = host.read(dropin_rel)
            plan.add_file(host.path(dropin_rel), old, grub.render_default_dropin(),
                          'GRUB_DEFAULT=saved so grubenv chooses the entry')
            planned = dict((change.path, change.after) for change in plan.files)
            check = grub.sourced_files(host, main_text, existing + [dropin_name], planned)
        else:
            new_main = grub.set_default_saved(main_text)
            plan.add_file(host.path(grub.DEFAULT_FILE), main_text, new_main,
                          'GRUB_DEFAULT=saved so grubenv chooses the entry')
            check = grub.sourced_files(host, new_main)
        if grub.effective_grub_default(host, check) != 'saved':
            raise BootEntryError('GRUB_DEFAULT would still not be saved after the change: a file sourced after %s '
                                 'sets it (sourced: %s)' % (dropin_rel if dropins else grub.DEFAULT_FILE,
                                                            ', '.join(path for path, _t in check)))
        if update:
            commands.append((host.command(grub.grub_regenerate_command(host)),
                             'regenerate grub.cfg with GRUB_DEFAULT=saved'))
        if want_default is None:
            # Switching to saved must not change what boots by default: pin the running kernel.
            running = _running_release(host)
            want_default = _kernel_entry(entries, running, 'the running kernel', pkgbases) if running else current
            if want_default is None:
                raise BootEntryError('GRUB must be switched to GRUB_DEFAULT=saved for a one-time boot, and neither the '
                                     'running kernel nor the current default (%s) has an entry; give default too'
                                     % grub_default)
    tool_prefix = grub.tool_prefix(host)
    if want_default is not None and (not saved_mode or env.get('saved_entry') != want_default['path']):
        commands.append((host.command(['%s-set-default' % tool_prefix, want_default['path']]),
                         'make %s the default entry' % want_default['release']))
        plan.default = _public(want_default)
        if not next_entry:
            plan.next_boot = _public(want_default)
    if want_once is not None and next_entry != want_once['path']:
        commands.append((host.command(['%s-reboot' % tool_prefix, want_once['path']]),
                         'boot %s on the next boot only' % want_once['release']))
        plan.next_boot = _public(want_once)
    plan.commands.extend(commands)
    return plan


def _plan_tool_commands(plan, host, default, once, default_now, default_key, default_argv,
                        once_now, once_key, once_argv):
    """The commands for bootloaders whose tools take the entry itself (grubby, bootctl).

    ``*_now`` is what the bootloader has now, compared with the wanted entry's ``*_key``;
    ``*_argv(value)`` is the tool's command line for that value.
    """
    if default:
        entry = _kernel_entry(plan.entries, default, 'default')
        if default_now != entry[default_key]:
            plan.commands.append((host.command(default_argv(entry[default_key])), 'make %s the default entry' % default))
            plan.default = entry
            if not once_now:
                plan.next_boot = entry
    if once:
        entry = _kernel_entry(plan.entries, once, 'once')
        if once_now != entry[once_key]:
            plan.commands.append((host.command(once_argv(entry[once_key])), 'boot %s on the next boot only' % once))
            plan.next_boot = entry
    return plan


# ---------------------------------------------------------------- grubby

def plan_grubby(host, default, once):
    plan = Plan('grubby', host.root)
    info = host.run(host.command(['grubby', '--info=ALL']), 'reading boot entries')
    entries = []
    for entry in parse_grubby_info(info):
        if not entry.get('kernel'):
            continue
        release = release_of_kernel_path(entry['kernel'])
        kind = 'recovery' if 'rescue' in entry['kernel'] else 'advanced'
        entries.append({'id': entry.get('id'), 'title': entry.get('title'), 'release': release,
                        'kernel': entry['kernel'], 'kind': kind, 'path': entry.get('id') or entry.get('index')})
    plan.entries = entries
    default_kernel = host.run(host.command(['grubby', '--default-kernel']), 'reading the default kernel').strip()
    current = next((e for e in entries if e['kernel'] == default_kernel), None)
    env_text = None
    if host.run_callable is not None:
        rc, out, _err = host.run_callable(host.command(['grub2-editenv', 'list']))
        env_text = out if rc == 0 else None
    next_entry = grub.parse_grubenv(env_text).get('next_entry') or None
    plan.default = current
    plan.next_boot = next((e for e in entries if next_entry in (e['id'], e['title'])), None) if next_entry else current
    plan.details.update(default_kernel=default_kernel, next_entry=next_entry)
    return _plan_tool_commands(plan, host, default, once,
                               default_now=default_kernel, default_key='kernel',
                               default_argv=lambda kernel: ['grubby', '--set-default=' + kernel],
                               once_now=next_entry, once_key='path', once_argv=lambda path: ['grub2-reboot', path])


# ---------------------------------------------------------------- systemd-boot

def read_loader_efivar(host, name):
    """A systemd-boot EFI variable (4 attribute bytes, then UTF-16LE text with a NUL), or None."""
    path = host.path('sys/firmware/efi/efivars/%s-%s' % (name, LOADER_VENDOR_GUID))
    try:
        with open(path, 'rb') as handle:
            raw = handle.read()
    except (IOError, OSError):
        return None
    return raw[4:].decode('utf-16-le', 'replace').rstrip('\x00') or None


def parse_loader_entry(text):
    values = {}
    for line in text.splitlines():
        match = re.fullmatch(r'\s*(\w+)\s+(.*?)\s*', line)
        if match and match.group(1) not in values:
            values[match.group(1)] = match.group(2)
    return values


def plan_systemd_boot(host, default, once):
    plan = Plan('systemd-boot', host.root)
    entries = []
    loader_default = None
    for directory in find_entry_dirs(host):
        conf = os.path.join(os.path.dirname(directory), 'loader.conf')
        if os.path.exists(conf) and loader_default is None:
            loader_default = parse_loader_entry(open(conf).read()).get('default')
        for path in entry_files(directory):
            with open(path) as handle:
                values = parse_loader_entry(handle.read())
            entry_id = os.path.basename(path)
            release = values.get('version') or release_of_kernel_path(values.get('linux'))
            entries.append({'id': entry_id, 'title': values.get('title'), 'release': release,
                            'kernel': values.get('linux'), 'kind': 'advanced', 'path': entry_id})
    plan.entries = entries
    efi_default = read_loader_efivar(host, 'LoaderEntryDefault')
    efi_once = read_loader_efivar(host, 'LoaderEntryOneShot')
    default_id = efi_default or loader_default
    current = next((e for e in entries if e['id'] == default_id), None)
    if current is None and entries:
        # Without a default, systemd-boot picks the entry that sorts last by version.
        current = entries[-1]
    plan.default = current
    plan.next_boot = next((e for e in entries if e['id'] == efi_once), None) if efi_once else current
    plan.details.update(loader_default=loader_default, efi_default=efi_default, efi_oneshot=efi_once)
    return _plan_tool_commands(plan, host, default, once,
                               default_now=efi_default, default_key='id',
                               default_argv=lambda entry_id: ['bootctl', 'set-default', entry_id],
                               once_now=efi_once, once_key='id',
                               once_argv=lambda entry_id: ['bootctl', 'set-oneshot', entry_id])


# ---------------------------------------------------------------- entry points

def plan_boot_entry(default=None, once=None, bootloader='auto', root='/', run=None,
                    grub_dropin=DEFAULT_DEFAULT_DROPIN, update=True):
    """Validate, read and plan; see the module documentation of boot_entry."""
    validate_release('default', default)
    validate_release('once', once)
    check_dropin_name(grub_dropin, BootEntryError)
    if not os.path.isdir(root):
        raise BootEntryError('root %s is not a directory' % root)
    host = Host(root, run, CmdlineError)
    try:
        if bootloader == 'auto':
            bootloader = detect_bootloader(host)
        if bootloader == 'grub':
            plan = plan_grub(host, default, once, grub_dropin, update)
        elif bootloader == 'grubby':
            plan = plan_grubby(host, default, once)
        elif bootloader == 'systemd-boot':
            plan = plan_systemd_boot(host, default, once)
        else:
            raise BootEntryError('bootloader %r is not one of auto, %s' % (bootloader, ', '.join(BOOTLOADERS)))
    except CmdlineError as exc:
        raise BootEntryError(str(exc))
    plan.host = host
    return plan


def apply_plan(plan):
    """Files first (atomically), then the commands in order (regenerate, set default, boot once)."""
    write_file_changes(plan.files, BootEntryError)
    for argv, reason in plan.commands:
        try:
            plan.host.run(argv, reason)
        except CmdlineError as exc:
            raise BootEntryError(str(exc))
