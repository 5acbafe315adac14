# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""grub.py on its own: the files, tools and sourcing that kernel_cmdline and boot_entry share.

The planners' tests (test_bootloader.py, test_boot_entries.py) run these through whole plans on
captured trees; here each function meets the cases a plan rarely reaches.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils import grub
from ansible_collections.hyperion.kernel.plugins.module_utils.bootloader import validate_params
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.host import Host
from ansible_collections.hyperion.kernel.tests.unit.fixture_files import FIXTURES, copy_fixture_tree


class OwnError(HyperionError):
    pass


def run(argv):
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def write(root, rel, text='', mode=0o644):
    path = os.path.join(str(root), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(text)
    os.chmod(path, mode)
    return path


def tools(root, *names):
    for name in names:
        write(root, 'usr/sbin/' + name, '#!/bin/sh\n', 0o755)


# ---------------------------------------------------------------- the installation

def test_is_installed_needs_the_default_file_and_a_regeneration_tool(tmp_path):
    host = Host(str(tmp_path), None)
    assert not grub.is_installed(host)
    write(tmp_path, 'etc/default/grub', 'GRUB_DEFAULT=0\n')
    assert not grub.is_installed(host)
    for tool in grub.REGENERATE_TOOLS:
        other = tmp_path / tool
        write(other, 'etc/default/grub', 'GRUB_DEFAULT=0\n')
        tools(other, tool)
        assert grub.is_installed(Host(str(other), None)), tool


def test_read_default_file_names_the_missing_file_with_the_hosts_error(tmp_path):
    with pytest.raises(OwnError, match=r'%s/etc/default/grub does not exist: is GRUB configured' % tmp_path):
        grub.read_default_file(Host(str(tmp_path), None, OwnError))
    write(tmp_path, 'etc/default/grub', 'GRUB_TIMEOUT=5\n')
    assert grub.read_default_file(Host(str(tmp_path), None)) == 'GRUB_TIMEOUT=5\n'


def test_regeneration_prefers_update_grub_then_grub_mkconfig_then_grub2(tmp_path):
    host = Host(str(tmp_path), None, OwnError)
    with pytest.raises(OwnError, match='no update-grub, grub-mkconfig or grub2-mkconfig in /usr/sbin, /usr/bin, /sbin, '
                                       '/bin to regenerate grub.cfg'):
        grub.grub_regenerate_command(host)
    tools(tmp_path, 'grub2-mkconfig')
    assert grub.grub_regenerate_command(host) == ['grub2-mkconfig', '-o', '/boot/grub2/grub.cfg']
    tools(tmp_path, 'grub-mkconfig')
    assert grub.grub_regenerate_command(host) == ['grub-mkconfig', '-o', '/boot/grub/grub.cfg']
    tools(tmp_path, 'update-grub')
    assert grub.grub_regenerate_command(host) == ['update-grub']


def test_grub2_tools_only_where_grub_set_default_is_missing(tmp_path):
    host = Host(str(tmp_path), None)
    assert grub.tool_prefix(host) == 'grub'
    tools(tmp_path, 'grub2-set-default')
    assert grub.tool_prefix(host) == 'grub2'
    tools(tmp_path, 'grub-set-default')
    assert grub.tool_prefix(host) == 'grub'


def test_dropins_are_sourced_where_debians_grub_mkconfig_reads_them(tmp_path):
    debian = str(tmp_path / 'debian')
    copy_fixture_tree(os.path.join('bootloader', 'debian-trixie', 'usr'), os.path.join(debian, 'usr'))
    assert grub.grub_sources_dropins(Host(debian, None))
    # Upstream's grub-mkconfig has no drop-in loop; without any grub-mkconfig the directory decides.
    upstream = tmp_path / 'upstream'
    write(upstream, 'usr/sbin/grub-mkconfig', '#!/bin/sh\n. /etc/default/grub\n', 0o755)
    os.makedirs(str(upstream / 'etc/default/grub.d'))
    assert not grub.grub_sources_dropins(Host(str(upstream), None))
    bare = tmp_path / 'bare'
    assert not grub.grub_sources_dropins(Host(str(bare), None))
    os.makedirs(str(bare / 'etc/default/grub.d'))
    assert grub.grub_sources_dropins(Host(str(bare), None))


def test_dropin_paths_are_the_cfg_files_in_name_order(tmp_path):
    for name in ('90-b.cfg', '10-a.cfg', 'notes.txt', '50-c.cfg.dpkg-old'):
        write(tmp_path, 'etc/default/grub.d/' + name)
    assert [os.path.basename(p) for p in grub.dropin_paths(Host(str(tmp_path), None))] == ['10-a.cfg', '90-b.cfg']


def test_grub_cfg_and_grubenv_are_found_in_boot_grub_before_boot_grub2(tmp_path):
    host = Host(str(tmp_path), None)
    assert grub.find_cfg(host) is None
    assert not grub.cfg_is_stale(host, ['etc/default/grub'])
    write(tmp_path, 'boot/grub2/grub.cfg')
    write(tmp_path, 'boot/grub2/grubenv', '# GRUB Environment Block\nsaved_entry=b\n' + '#' * 900)
    assert grub.find_cfg(host) == 'boot/grub2/grub.cfg'
    assert grub.read_grubenv(host, 'boot/grub2/grub.cfg') == {'saved_entry': 'b'}
    write(tmp_path, 'boot/grub/grub.cfg')
    assert grub.find_cfg(host) == 'boot/grub/grub.cfg'
    assert grub.read_grubenv(host, 'boot/grub/grub.cfg') == {}


def test_grub_cfg_older_than_an_input_is_stale(tmp_path):
    host = Host(str(tmp_path), None)
    cfg = write(tmp_path, 'boot/grub/grub.cfg')
    source = write(tmp_path, 'etc/default/grub')
    os.utime(cfg, (1000, 1000))
    os.utime(source, (2000, 2000))
    assert grub.cfg_is_stale(host, ['/etc/default/grub', 'etc/default/grub.d/missing.cfg'])
    os.utime(cfg, (3000, 3000))
    assert not grub.cfg_is_stale(host, ['/etc/default/grub'])


# ---------------------------------------------------------------- sourcing

def test_sourced_files_puts_planned_texts_in_place_and_leaves_removed_ones_out(tmp_path):
    host = Host(str(tmp_path), None)
    write(tmp_path, 'etc/default/grub.d/20-old.cfg', 'A=old\n')
    write(tmp_path, 'etc/default/grub.d/10-kept.cfg', 'B=kept\n')
    main = host.path(grub.DEFAULT_FILE)
    planned = {main: 'MAIN=planned\n', host.path('etc/default/grub.d/20-old.cfg'): None,
               host.path('etc/default/grub.d/30-new.cfg'): 'C=new\n'}
    files = grub.sourced_files(host, 'MAIN=now\n', ['30-new.cfg', '20-old.cfg', '10-kept.cfg', '10-kept.cfg'],
                               planned)
    assert files == [(main, 'MAIN=planned\n'), (host.path('etc/default/grub.d/10-kept.cfg'), 'B=kept\n'),
                     (host.path('etc/default/grub.d/30-new.cfg'), 'C=new\n')]
    # A name that is neither on disk nor planned is not sourced.
    assert grub.sourced_files(host, 'MAIN=now\n', ['99-none.cfg']) == [(main, 'MAIN=now\n')]


def test_later_files_win_and_the_cmdline_of_a_normal_entry_joins_both_variables(tmp_path):
    host = Host(str(tmp_path), run)
    files = [('/etc/default/grub', 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n'),
             ('/etc/default/grub.d/90.cfg', 'GRUB_DEFAULT=saved\nGRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} a=1"\n')]
    values = grub.source_grub_files(host, files)
    assert values == {'GRUB_CMDLINE_LINUX': ' a=1', 'GRUB_CMDLINE_LINUX_DEFAULT': 'quiet'}
    assert grub.entry_cmdline(values) == ' a=1 quiet'
    assert grub.effective_grub_default(host, files) == 'saved'
    assert grub.effective_grub_default(host, files[:1]) == '0'


def test_a_file_that_fails_to_source_is_the_hosts_error_naming_the_files(tmp_path):
    host = Host(str(tmp_path), run, OwnError)
    with pytest.raises(OwnError, match='sourcing /etc/default/grub: sh -c'):
        grub.effective_grub_default(host, [('/etc/default/grub', 'if then\n')])


def test_linux_line_prefix_takes_root_from_the_running_kernel_and_the_longest_image(tmp_path):
    host = Host(str(tmp_path), None)
    # Nothing to go by: stand-ins as long as a real release and a root=UUID=.
    assert grub.linux_line_prefix(host) == ['BOOT_IMAGE=/boot/vmlinuz-' + 'x' * 64, 'root=UUID=' + 'x' * 36, 'ro']
    write(tmp_path, 'proc/cmdline', 'BOOT_IMAGE=/boot/vmlinuz-6.12 root=/dev/vda1 ro rootflags=subvol=@ quiet\n')
    write(tmp_path, 'boot/vmlinuz-6.12.117-hyperion')
    assert grub.linux_line_prefix(host) == ['BOOT_IMAGE=/boot/vmlinuz-6.12.117-hyperion', 'root=/dev/vda1', 'ro',
                                            'rootflags=subvol=@']


# ---------------------------------------------------------------- what is written

def test_render_default_dropin_and_set_default_saved_give_saved(tmp_path):
    host = Host(str(tmp_path), run)
    assert grub.effective_grub_default(host, [('main', 'GRUB_DEFAULT=0\n'),
                                              ('dropin', grub.render_default_dropin())]) == 'saved'
    assert grub.set_default_saved('GRUB_TIMEOUT=5\nGRUB_DEFAULT=0\n') == 'GRUB_TIMEOUT=5\nGRUB_DEFAULT=saved\n'
    assert grub.set_default_saved('GRUB_TIMEOUT=5') == 'GRUB_TIMEOUT=5\nGRUB_DEFAULT=saved\n'
    assert grub.set_default_saved('') == 'GRUB_DEFAULT=saved\n'


def test_dropin_tokens_read_back_what_render_dropin_wrote():
    tokens = ['kgdboc=ttyS0,115200', 'kgdbwait']
    assert grub.dropin_tokens(grub.render_dropin(tokens)) == tokens
    assert grub.dropin_tokens(None) == []


def test_assignments_and_mentions_see_every_cmdline_variable_form():
    text = ('GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="quiet"\n  export GRUB_CMDLINE_LINUX_DEFAULT=\'splash\' # c\n'
            'GRUB_CMDLINE_LINUX="$X "nmi_watchdog=0\n')
    found = grub.assignments(text)
    assert [(index, var, rhs is not None) for index, var, _match, rhs in found] == [
        (1, 'GRUB_CMDLINE_LINUX', True), (2, 'GRUB_CMDLINE_LINUX_DEFAULT', True), (3, 'GRUB_CMDLINE_LINUX', False)]
    params = validate_params([{'name': 'nmi-watchdog', 'value': '1'}, {'name': 'quiet', 'state': 'absent'}])
    assert grub.mentions(found[2][2].group('rhs'), params) == ['nmi-watchdog']


def test_edit_grub_file_raises_the_callers_error_for_a_form_it_does_not_rewrite():
    params = validate_params([{'name': 'nmi_watchdog', 'value': '1'}])
    with pytest.raises(OwnError, match=r'grub line 1 sets GRUB_CMDLINE_LINUX in a form this module does not rewrite'):
        grub.edit_grub_file('GRUB_CMDLINE_LINUX="$X "nmi_watchdog=0\n', 'grub', params, error=OwnError)


def test_captured_grub_cfg_and_grubenv_resolve_the_saved_default():
    root = os.path.join(FIXTURES, 'boot-entries', 'trixie-one-kernel', 'root')
    host = Host(root, None)
    cfg = grub.find_cfg(host)
    entries = grub.parse_grub_cfg(host.read(cfg))
    env = grub.read_grubenv(host, cfg)
    assert grub.resolve_grub_entry(entries, env.get('saved_entry')) is entries[0]
