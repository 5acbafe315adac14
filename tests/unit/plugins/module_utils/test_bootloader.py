# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The kernel_cmdline core on real bootloader files (tests/unit/fixtures/bootloader, see its README)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import stat
import subprocess
import tempfile

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.hyperion.kernel.plugins.module_utils import bootloader, grub
from ansible_collections.hyperion.kernel.plugins.module_utils.cmdline import edit_tokens, parse_cmdline, split_tokens
from ansible_collections.hyperion.kernel.tests.unit.fixture_files import copy_fixture_tree
from ansible_collections.hyperion.kernel.plugins.module_utils.bootloader import (
    CmdlineError, apply_plan, parse_grubby_info, plan_cmdline, validate_params)

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'bootloader')
SUITES = ('debian-bookworm', 'debian-trixie')
MACHINE_ID = '0123456789abcdef0123456789abcdef'  # the capture chroot's fixed /etc/machine-id
KGDB = [{'name': 'kgdboc', 'value': 'ttyS0,115200'}, {'name': 'nmi-watchdog', 'value': '0'},
        {'name': 'kgdbwait'}, {'name': 'quiet', 'state': 'absent'}]


def real_run(argv):
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def snapshot(root):
    """Every file below root with its bytes: proof that nothing changed."""
    found = {}
    for base, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(base, name)
            with open(path, 'rb') as handle:
                found[os.path.relpath(path, root)] = handle.read()
    return found


def grub_tree(tmp_path, suite, cmdline='BOOT_IMAGE=/boot/vmlinuz root=/dev/vda1 ro quiet nmi_watchdog=0\n'):
    """A root with the suite's real /etc/default/grub, grub-mkconfig and update-grub."""
    root = tmp_path / suite
    copy_fixture_tree(os.path.join('bootloader', suite), str(root))
    (root / 'etc' / 'default' / 'grub.d').mkdir(exist_ok=True)
    (root / 'proc').mkdir()
    (root / 'proc' / 'cmdline').write_text(cmdline)
    return str(root)


def read(root, rel):
    with open(os.path.join(root, rel)) as handle:
        return handle.read()


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize('params, message', [
    ([], 'params is empty'),
    (['kgdboc'], 'must be a dictionary'),
    ([{'name': 'kgdb oc'}], 'name must be a kernel parameter name'),
    ([{'name': 'a=b'}], 'must be a kernel parameter name'),
    ([{'name': ''}], 'must be a kernel parameter name'),
    # '--' hands the rest of the line to init; a leading '-' or '.' is no name the kernel registers.
    ([{'name': '--'}], 'got "--"'),
    ([{'name': '-x'}], 'must be a kernel parameter name'),
    ([{'name': 'quiet\n'}], 'got "quiet\\n"'),
    ([{'name': 'x', 'value': 'a{b'}], 'contains an opening brace'),
    ([{'name': 'x', 'value': 'a}b'}], 'contains a closing brace'),
    ([{'name': 'x', 'value': 'a|b'}], 'contains a pipe'),
    ([{'name': 'x', 'value': 'a&b'}], 'contains an ampersand'),
    ([{'name': 'x', 'value': 'a<b'}], 'contains a less-than sign'),
    ([{'name': 'x', 'value': 'a>b'}], 'contains a greater-than sign'),
    ([{'name': 'x', 'value': 'a\tb'}], 'contains white space'),
    ([{'name': 'x', 'value': 'a\rb'}], 'contains a newline'),
    ([{'name': 'x', 'value': 'a\x1bb'}], 'contains a control character'),
    ([{'name': 'x', 'value': 'a\x7fb'}], 'contains a control character'),
    ([{'name': 'x', 'value': 'a\x85b'}], 'contains a control character'),
    ([{'name': 'x', 'value': 'a\xa0b'}], 'contains white space'),
    ([{'name': 'x', 'value': 'caf\xe9'}], 'outside printable ASCII'),
    ([{'name': 'panic', 'value': '2147484'}], 'must be from -2147483648 to 2147483, got 2147484'),
    ([{'name': 'panic', 'value': '4294967306'}], 'to 2147483'),
    ([{'name': 'panic', 'value': 'ten'}], 'must be a whole number'),
    ([{'name': 'panic'}], 'panic needs a value'),
    ([{'name': 'panic', 'value': '010'}], 'which the kernel reads as octal'),
    ([{'name': 'x', 'value': 'a"b'}], 'contains a double quote'),
    ([{'name': 'x', 'value': '$(reboot)'}], 'contains a dollar sign'),
    ([{'name': 'x', 'value': '`id`'}], 'contains a backtick'),
    ([{'name': 'x', 'value': 'a\\b'}], 'contains a backslash'),
    ([{'name': 'x', 'value': 'a\nb'}], 'contains a newline'),
    ([{'name': 'x', 'value': 'module zram +p'}], 'contains white space'),
    ([{'name': 'x', 'value': "it's"}], 'contains a single quote'),
    ([{'name': 'x', 'value': 'a;b'}], 'contains a semicolon'),
    ([{'name': 'x', 'state': 'gone'}], "state 'gone' is not one of present, absent"),
    ([{'name': 'x', 'value': '1', 'state': 'absent'}], 'an absent parameter takes no value'),
    ([{'name': 'nmi_watchdog', 'value': '0'}, {'name': 'nmi-watchdog', 'value': '1'}], 'is given twice'),
    ([{'name': 'kgdbwait'}, {'name': 'kgdbwait', 'state': 'absent'}], 'both present and absent'),
])
def test_bad_params_are_refused_with_a_clear_message(params, message):
    with pytest.raises(CmdlineError) as excinfo:
        validate_params(params)
    assert message in str(excinfo.value)


def test_good_params():
    checked = validate_params(KGDB + [{'name': 'zswap.enabled', 'value': 0}, {'name': 'resume', 'value': ''}])
    assert [p.render() for p in checked] == ['kgdboc=ttyS0,115200', 'nmi-watchdog=0', 'kgdbwait', 'quiet',
                                             'zswap.enabled=0', 'resume=']
    assert checked[1].key == 'nmi_watchdog'


def test_bad_dropin_name_and_root(tmp_path):
    with pytest.raises(CmdlineError, match='must be a file name ending in .cfg'):
        plan_cmdline(KGDB, root=str(tmp_path), grub_dropin='../grub')
    # A trailing newline once passed a $-anchored pattern: grub-mkconfig never reads "x.cfg\n".
    with pytest.raises(CmdlineError, match=r'got "x\.cfg\\n"; grub-mkconfig sources only'):
        plan_cmdline(KGDB, root=str(tmp_path), grub_dropin='x.cfg\n')
    with pytest.raises(CmdlineError, match='is not a directory'):
        plan_cmdline(KGDB, root=str(tmp_path / 'missing'))


# ---------------------------------------------------------------- tokens

def test_tokens_follow_the_kernels_rules():
    line = 'root=/dev/vda1 "dyndbg=module zram +p" nmi-watchdog=1 quiet -- init_arg kgdbwait'
    tokens = split_tokens(line)
    assert tokens == ['root=/dev/vda1', '"dyndbg=module zram +p"', 'nmi-watchdog=1', 'quiet', '--', 'init_arg',
                      'kgdbwait']
    edited = edit_tokens(tokens, validate_params(KGDB), place=True)
    # nmi-watchdog=1 becomes nmi-watchdog=0; new ones go before "--"; init's kgdbwait is not the kernel's.
    assert edited == ['root=/dev/vda1', '"dyndbg=module zram +p"', 'kgdboc=ttyS0,115200', 'nmi-watchdog=0',
                      'kgdbwait', '--', 'init_arg', 'kgdbwait']


def test_a_right_parameter_stays_where_it_is_and_duplicates_go():
    params = validate_params([{'name': 'nmi_watchdog', 'value': '0'}])
    assert edit_tokens(['a', 'nmi-watchdog=0', 'b'], params, place=True) == ['a', 'nmi-watchdog=0', 'b']
    assert edit_tokens(['nmi_watchdog=0', 'b', 'nmi_watchdog=1'], params, place=True) == ['nmi_watchdog=0', 'b']
    assert edit_tokens(['nmi_watchdog', 'b'], params, place=True) == ['b', 'nmi_watchdog=0']


# ---------------------------------------------------------------- GRUB with drop-ins (Debian)

@pytest.mark.parametrize('suite', SUITES)
def test_grub_dropin_on_debians_own_files(tmp_path, suite):
    root = grub_tree(tmp_path, suite)
    before = snapshot(root)
    plan = plan_cmdline(KGDB, root=root, run=real_run, update=False)
    assert snapshot(root) == before, 'planning must not change a file'
    assert plan.bootloader == 'grub' and plan.details['grub_config'] == 'dropin'
    dropin = os.path.join(root, 'etc/default/grub.d/90-hyperion-kernel.cfg')
    assert [a['action'] for a in plan.actions] == ['write', 'write']
    assert [a['path'] for a in plan.actions] == [os.path.join(root, 'etc/default/grub'), dropin]
    # The sourced result, as grub-mkconfig would see it: quiet taken out of GRUB_CMDLINE_LINUX_DEFAULT.
    assert plan.details['grub_cmdline'] == {'GRUB_CMDLINE_LINUX': ' kgdboc=ttyS0,115200 nmi-watchdog=0 kgdbwait',
                                            'GRUB_CMDLINE_LINUX_DEFAULT': ''}
    assert plan.next_boot == {'kgdboc': 'ttyS0,115200', 'nmi-watchdog': '0', 'kgdbwait': None}
    assert plan.current == {'quiet': None, 'nmi-watchdog': '0'}
    result = plan.result()
    assert result['reboot_required'] is True
    assert result['cmdline_difference']['nmi-watchdog'] == {'current': 'nmi-watchdog=0', 'next_boot': 'nmi-watchdog=0',
                                                            'differs': False}
    assert result['cmdline_difference']['quiet'] == {'current': 'quiet', 'next_boot': None, 'differs': True}

    apply_plan(plan)
    main = read(root, 'etc/default/grub')
    assert 'GRUB_CMDLINE_LINUX_DEFAULT=""\n' in main
    # Everything but that one line is the package's file byte for byte.
    assert main.replace('GRUB_CMDLINE_LINUX_DEFAULT=""', 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"').encode() == \
        before['etc/default/grub']
    assert read(root, dropin).endswith('GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} kgdboc=ttyS0,115200 '
                                       'nmi-watchdog=0 kgdbwait"\n')
    assert oct(os.stat(dropin).st_mode & 0o777) == '0o644'
    assert not [n for n in os.listdir(os.path.dirname(dropin)) if n.endswith('.hyperion-tmp')]

    again = plan_cmdline(KGDB, root=root, run=real_run, update=False)
    assert again.actions == [] and not again.changed
    assert again.next_boot == plan.next_boot


def test_grub_change_and_removal_keep_other_parameters_in_the_dropin(tmp_path):
    root = grub_tree(tmp_path, 'debian-trixie')
    apply_plan(plan_cmdline(KGDB, root=root, run=real_run, update=False))
    plan = plan_cmdline([{'name': 'nmi_watchdog', 'value': '1'}, {'name': 'kgdbwait', 'state': 'absent'}],
                        root=root, run=real_run, update=False)
    assert [a['action'] for a in plan.actions] == ['write']
    apply_plan(plan)
    assert read(root, 'etc/default/grub.d/90-hyperion-kernel.cfg').endswith(
        '"${GRUB_CMDLINE_LINUX} kgdboc=ttyS0,115200 nmi_watchdog=1"\n')
    # Removing the last managed parameters removes the drop-in.
    plan = plan_cmdline([{'name': 'kgdboc', 'state': 'absent'}, {'name': 'nmi_watchdog', 'state': 'absent'}],
                        root=root, run=real_run, update=False)
    assert plan.actions[0]['action'] == 'remove'
    apply_plan(plan)
    assert not os.path.exists(os.path.join(root, 'etc/default/grub.d/90-hyperion-kernel.cfg'))


def test_grub_parameter_in_another_dropin_is_an_error_naming_it(tmp_path):
    root = grub_tree(tmp_path, 'debian-trixie')
    other = os.path.join(root, 'etc/default/grub.d/50-cloudimg.cfg')
    with open(other, 'w') as handle:
        handle.write('GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT console=ttyS0 kgdboc=ttyS1"\n')
    with pytest.raises(CmdlineError) as excinfo:
        plan_cmdline(KGDB, root=root, run=real_run)
    assert other in str(excinfo.value) and 'kgdboc' in str(excinfo.value)


def test_grub_later_dropin_that_resets_the_line_is_detected_by_sourcing(tmp_path):
    root = grub_tree(tmp_path, 'debian-trixie')
    with open(os.path.join(root, 'etc/default/grub.d/99-reset.cfg'), 'w') as handle:
        handle.write('GRUB_CMDLINE_LINUX=""\n')
    with pytest.raises(CmdlineError, match='the next boot would have absent, not kgdboc=ttyS0,115200'):
        plan_cmdline(KGDB, root=root, run=real_run)


def test_grub_line_too_complex_to_rewrite_is_refused(tmp_path):
    root = grub_tree(tmp_path, 'debian-trixie')
    path = os.path.join(root, 'etc/default/grub')
    with open(path, 'a') as handle:
        handle.write('GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} \\"kgdboc=ttyS0\\""\n')
    with pytest.raises(CmdlineError, match='in a form this module does not rewrite'):
        plan_cmdline(KGDB, root=root, run=real_run)


def test_grub_regeneration_command(tmp_path):
    root = grub_tree(tmp_path, 'debian-trixie')
    plan = plan_cmdline(KGDB, root=root, run=real_run)
    # A root other than / is a chroot or an image: its own tools run inside it.
    assert plan.commands[-1][0] == ['chroot', root, 'update-grub']
    os.unlink(os.path.join(root, 'usr/sbin/update-grub'))
    plan = plan_cmdline(KGDB, root=root, run=real_run)
    assert plan.commands[-1][0] == ['chroot', root, 'grub-mkconfig', '-o', '/boot/grub/grub.cfg']


def test_grub_stale_grub_cfg_is_regenerated_without_file_changes(tmp_path):
    root = grub_tree(tmp_path, 'debian-trixie')
    apply_plan(plan_cmdline(KGDB, root=root, run=real_run, update=False))
    cfg = os.path.join(root, 'boot/grub/grub.cfg')
    os.makedirs(os.path.dirname(cfg))
    with open(cfg, 'w') as handle:
        handle.write('# generated before the drop-in was written\n')
    os.utime(cfg, (1, 1))  # as if update-grub had failed after the files were written
    plan = plan_cmdline(KGDB, root=root, run=real_run)
    assert plan.files == [] and [a['action'] for a in plan.actions] == ['run']
    os.utime(cfg, None)
    assert plan_cmdline(KGDB, root=root, run=real_run).actions == []


# ---------------------------------------------------------------- GRUB without drop-ins (Arch, upstream)

def test_grub_without_dropins_edits_cmdline_linux_default(tmp_path):
    root = grub_tree(tmp_path, 'debian-trixie')
    # Upstream grub-mkconfig (as Arch ships it) has no grub.d loop: take Debian's out.
    mkconfig = os.path.join(root, 'usr/sbin/grub-mkconfig')
    text = read(root, 'usr/sbin/grub-mkconfig')
    with open(mkconfig, 'w') as handle:
        handle.write(text.replace('default/grub.d', 'default/not-read'))
    os.unlink(os.path.join(root, 'usr/sbin/update-grub'))
    plan = plan_cmdline(KGDB, root=root, run=real_run)
    assert plan.details['grub_config'] == 'main_file'
    assert [a.get('path') or a['argv'] for a in plan.actions] == [
        os.path.join(root, 'etc/default/grub'), ['chroot', root, 'grub-mkconfig', '-o', '/boot/grub/grub.cfg']]
    apply_plan(plan_cmdline(KGDB, root=root, run=real_run, update=False))
    main = read(root, 'etc/default/grub')
    assert 'GRUB_CMDLINE_LINUX_DEFAULT="kgdboc=ttyS0,115200 nmi-watchdog=0 kgdbwait"\n' in main
    assert 'GRUB_CMDLINE_LINUX=""\n' in main
    assert os.listdir(os.path.join(root, 'etc/default/grub.d')) == []
    assert plan_cmdline(KGDB, root=root, run=real_run, update=False).actions == []


# ---------------------------------------------------------------- systemd-boot

def sdboot_tree(tmp_path):
    root = tmp_path / 'sdboot'
    shutil.copytree(os.path.join(FIXTURES, 'debian-trixie', 'efi'), str(root / 'efi'))
    shutil.copytree(os.path.join(FIXTURES, 'debian-trixie', 'etc', 'kernel'), str(root / 'etc' / 'kernel'))
    (root / 'efi' / 'EFI' / 'systemd').mkdir(parents=True)
    (root / 'efi' / 'EFI' / 'systemd' / 'systemd-bootx64.efi').write_bytes(b'')
    return str(root)


def test_systemd_boot_entries_written_by_kernel_install(tmp_path):
    root = sdboot_tree(tmp_path)
    entries = sorted(os.listdir(os.path.join(root, 'efi/loader/entries')))
    assert len(entries) == 2
    before = snapshot(root)
    plan = plan_cmdline(KGDB, root=root)
    assert snapshot(root) == before
    assert plan.bootloader == 'systemd-boot'
    assert sorted(a['path'] for a in plan.actions) == sorted(
        [os.path.join(root, 'etc/kernel/cmdline')] + [os.path.join(root, 'efi/loader/entries', e) for e in entries])
    assert plan.current is None and plan.result()['reboot_required'] is True
    apply_plan(plan)
    for entry in entries:
        text = read(root, 'efi/loader/entries/' + entry)
        options = [line for line in text.splitlines() if line.startswith('options')]
        # kgdboc was right already and stays in place; kernel-install's machine id is left alone.
        assert options == ['options    root=/dev/vda1 ro kgdboc=ttyS0,115200 systemd.machine_id=%s '
                           'nmi-watchdog=0 kgdbwait' % MACHINE_ID]
        # Only the options line changed.
        others = [line for line in text.splitlines() if not line.startswith('options')]
        assert others == [line for line in before['efi/loader/entries/' + entry].decode().splitlines()
                          if not line.startswith('options')]
    assert read(root, 'etc/kernel/cmdline') == 'root=/dev/vda1 ro kgdboc=ttyS0,115200 nmi-watchdog=0 kgdbwait\n'
    assert plan.next_boot == {'kgdboc': 'ttyS0,115200', 'nmi-watchdog': '0', 'kgdbwait': None}
    assert plan_cmdline(KGDB, root=root).actions == []


# ---------------------------------------------------------------- grubby

class FakeGrubby(object):
    """grubby's answers from a fixture file; records every command."""

    def __init__(self, info):
        self.info = info
        self.calls = []

    def __call__(self, argv):
        self.calls.append(argv)
        if argv[-1] == '--info=ALL':
            return 0, self.info, ''
        if argv[-1] == '--default-index':
            return 0, '0\n', ''
        return 0, '', ''


def grubby_tree(tmp_path):
    root = tmp_path / 'el'
    (root / 'usr' / 'sbin').mkdir(parents=True)
    (root / 'usr' / 'sbin' / 'grubby').write_text('')
    (root / 'boot' / 'loader' / 'entries').mkdir(parents=True)
    return str(root)


def test_grubby_info_and_update(tmp_path):
    info = read(FIXTURES, 'grubby/info-ALL.txt')
    entries = parse_grubby_info(info)
    assert [e['index'] for e in entries] == ['0', '1', '2']
    assert entries[0]['kernel'] == '/boot/vmlinuz-5.14.0-503.11.1.el9_5.x86_64'
    assert entries[0]['args'].startswith('ro crashkernel=')
    root = grubby_tree(tmp_path)
    run = FakeGrubby(info)
    plan = plan_cmdline(KGDB, root=root, run=run)
    assert plan.bootloader == 'grubby'
    assert plan.commands == [(['chroot', root, 'grubby', '--update-kernel=ALL',
                               '--args=kgdboc=ttyS0,115200 nmi-watchdog=0 kgdbwait', '--remove-args=quiet'],
                              'set the managed parameters in every boot entry')]
    assert plan.next_boot == {'kgdboc': 'ttyS0,115200', 'nmi-watchdog': '0', 'kgdbwait': None}
    # Once every entry has them, nothing to do.
    done = info.replace('rhgb quiet', 'rhgb kgdboc=ttyS0,115200 nmi-watchdog=0 kgdbwait')
    assert plan_cmdline(KGDB, root=root, run=FakeGrubby(done)).actions == []


def test_grubby_failure_is_reported(tmp_path):
    root = grubby_tree(tmp_path)
    with pytest.raises(CmdlineError, match=r'grubby --info=ALL failed \(rc=1\): no BLS'):
        plan_cmdline(KGDB, root=root, run=lambda argv: (1, '', 'no BLS entries\n'))


# ---------------------------------------------------------------- detection

def test_detection(tmp_path):
    assert plan_cmdline(KGDB, root=grub_tree(tmp_path, 'debian-bookworm'), run=real_run).bootloader == 'grub'
    assert plan_cmdline(KGDB, root=sdboot_tree(tmp_path)).bootloader == 'systemd-boot'
    assert plan_cmdline(KGDB, root=grubby_tree(tmp_path), run=FakeGrubby(read(FIXTURES, 'grubby/info-ALL.txt'))
                        ).bootloader == 'grubby'
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(CmdlineError) as excinfo:
        plan_cmdline(KGDB, root=str(empty))
    message = str(excinfo.value)
    for looked_for in ('grubby', '/boot/loader/entries', 'systemd-boot', '/etc/default/grub', 'grub-mkconfig',
                       'set bootloader to one of grub, grubby, systemd-boot'):
        assert looked_for in message
    with pytest.raises(CmdlineError, match='does not exist: is GRUB configured'):
        plan_cmdline(KGDB, root=str(empty), bootloader='grub')


def test_atomic_write_keeps_mode_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / 'grub'
    path.write_text('old\n')
    os.chmod(str(path), 0o600)
    bootloader.atomic_write(str(path), 'new\n')
    assert path.read_text() == 'new\n'
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert os.listdir(str(tmp_path)) == ['grub']


# ---------------------------------------------------------------- the whole command line's length

LIMIT = bootloader.command_line_size()[0] - 1


def test_grub_line_as_long_as_the_kernel_keeps_passes_and_one_byte_more_is_refused(tmp_path):
    root = grub_tree(tmp_path, 'debian-trixie')
    # BOOT_IMAGE and root= of the running kernel's line, then GRUB_CMDLINE_LINUX and _DEFAULT ("quiet").
    fixed = len('BOOT_IMAGE=/boot/vmlinuz root=/dev/vda1 ro x= quiet')
    plan = plan_cmdline([{'name': 'x', 'value': 'v' * (LIMIT - fixed)}], root=root, run=real_run, update=False)
    assert plan.details['command_line_length'] == {'longest': LIMIT, 'where': 'the GRUB linux line', 'limit': LIMIT}
    before = snapshot(root)
    with pytest.raises(CmdlineError, match=r'the GRUB linux line would be %d bytes long; the kernel on \S+ keeps %d '
                                           % (LIMIT + 1, LIMIT)):
        plan_cmdline([{'name': 'x', 'value': 'v' * (LIMIT - fixed + 1)}], root=root, run=real_run, update=False)
    assert snapshot(root) == before


def test_grub_line_counts_the_longest_kernel_image_in_boot(tmp_path):
    root = grub_tree(tmp_path, 'debian-trixie')
    os.makedirs(os.path.join(root, 'boot'))
    with open(os.path.join(root, 'boot', 'vmlinuz-6.19.2-hyperion-with-a-long-local-version'), 'w'):
        pass
    plan = plan_cmdline([{'name': 'x', 'value': 'v'}], root=root, run=real_run, update=False)
    assert plan.details['command_line_length']['longest'] == len(
        'BOOT_IMAGE=/boot/vmlinuz-6.19.2-hyperion-with-a-long-local-version root=/dev/vda1 ro x=v quiet')


def test_systemd_boot_entry_with_its_initrd_is_measured(tmp_path):
    root = sdboot_tree(tmp_path)
    before = snapshot(root)
    with pytest.raises(CmdlineError, match=r'boot entry \S+\.conf would be \d+ bytes long'):
        plan_cmdline([{'name': 'x', 'value': 'v' * (LIMIT - 100)}], root=root)
    assert snapshot(root) == before
    plan = plan_cmdline([{'name': 'x', 'value': 'v'}], root=root)
    # The entry's options, the new parameter and systemd-boot's initrd=<path>.
    entry = read(root, 'efi/loader/entries/%s-6.12.0-capture1-amd64.conf' % MACHINE_ID)
    initrd = [line.split()[1] for line in entry.splitlines() if line.startswith('initrd')][0]
    options = [line.split(None, 1)[1] for line in entry.splitlines() if line.startswith('options')][0]
    assert plan.details['command_line_length']['longest'] == len('%s x=v initrd=%s' % (options, initrd))


def test_grubby_entries_are_measured_with_boot_image(tmp_path):
    root = grubby_tree(tmp_path)
    run = FakeGrubby(read(FIXTURES, 'grubby/info-ALL.txt'))
    with pytest.raises(CmdlineError, match=r'grubby entry \d+ would be \d+ bytes long'):
        plan_cmdline([{'name': 'x', 'value': 'v' * LIMIT}], root=root, run=run)
    assert [argv[-1] for argv in run.calls] == ['--info=ALL', '--default-index'], 'no grubby --update-kernel'


def test_an_unchanged_host_is_not_refused_for_its_own_long_line(tmp_path):
    # Nothing to write: the module reports the length, it does not refuse a line it did not make.
    root = grub_tree(tmp_path, 'debian-trixie')
    apply_plan(plan_cmdline([{'name': 'x', 'value': '1'}], root=root, run=real_run, update=False))
    with open(os.path.join(root, 'etc/default/grub'), 'a') as handle:
        handle.write('GRUB_CMDLINE_LINUX_DEFAULT="quiet %s"\n' % ('y' * LIMIT))
    plan = plan_cmdline([{'name': 'x', 'value': '1'}], root=root, run=real_run, update=False)
    assert plan.actions == [] and plan.details['command_line_length']['longest'] > LIMIT
    with pytest.raises(CmdlineError, match='would be'):
        plan_cmdline([{'name': 'x', 'value': '2'}], root=root, run=real_run, update=False)


# ---------------------------------------------------------------- properties of the GRUB drop-in

# Printable ASCII is where accepted values come from; the refused characters are the syntax of sh and
# GRUB's script (yylex.l), the kernel's white space, control characters and anything past ASCII.
ACCEPTED = set(chr(c) for c in range(0x21, 0x7f)) - set(bootloader.FORBIDDEN_VALUE_CHARS)


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2fff), max_size=12))
def test_a_value_is_accepted_exactly_when_every_character_is_safe(value):
    assert (bootloader.value_problem(value) is None) == all(c in ACCEPTED for c in value)


NAMES = st.from_regex(r'[a-z][a-z0-9_.-]{0,11}', fullmatch=True)
VALUES = st.one_of(st.none(), st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7e), max_size=16))


def _sourced(text, then):
    with tempfile.NamedTemporaryFile('w', suffix='.cfg', delete=False) as handle:
        handle.write(text)
    try:
        return subprocess.run(['/bin/sh', '-c', '. "$1"; ' + then, 'sh', handle.name], capture_output=True, text=True,
                              check=True, env={'PATH': os.environ.get('PATH', '/usr/bin:/bin')}).stdout
    finally:
        os.unlink(handle.name)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(NAMES, VALUES), min_size=1, max_size=5,
                unique_by=lambda pair: pair[0].replace('-', '_')).filter(
                    lambda pairs: all(v is None or bootloader.value_problem(v) is None for _n, v in pairs)
                    and not any(n.replace('-', '_') == 'panic' for n, _v in pairs)))
def test_rendered_dropin_sourced_by_sh_gives_back_the_command_line(pairs):
    params = validate_params([{'name': n, 'value': v} for n, v in pairs])
    tokens = [param.render() for param in params]
    out = _sourced(grub.render_dropin(tokens), 'printf %s "$GRUB_CMDLINE_LINUX"')
    assert out == ' ' + ' '.join(tokens)
    assert parse_cmdline(out).params == [(n.replace('-', '_'), v) for n, v in pairs]
    # The same parameters written into /etc/default/grub's GRUB_CMDLINE_LINUX_DEFAULT (no drop-ins).
    main = grub.edit_grub_file('GRUB_CMDLINE_LINUX_DEFAULT="quiet"\n', 'grub', params,
                               place_in='GRUB_CMDLINE_LINUX_DEFAULT')
    out = _sourced(main, 'printf %s "$GRUB_CMDLINE_LINUX_DEFAULT"')
    assert parse_cmdline(out).params == [('quiet', None)] + [(n.replace('-', '_'), v) for n, v in pairs]
