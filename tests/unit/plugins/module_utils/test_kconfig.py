# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import os
import shutil

import pytest

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import SourceError
from ansible_collections.hyperion.kernel.plugins.module_utils.kconfig import (
    NOT_SET, parse_kconfig, read_config_file, read_running_config, running_config_candidates)

KCONFIG = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'kconfig')
TRIXIE = os.path.join(KCONFIG, 'debian-trixie-6.12.117+deb13-amd64.config')
BOOKWORM = os.path.join(KCONFIG, 'debian-bookworm-6.1.0-56-amd64.config')
HOST = os.path.join(KCONFIG, 'host-6.18.44-fc-v669.config')


def test_trixie_values_not_set_and_absent_are_distinct():
    config = read_config_file(TRIXIE)
    assert config.version == '6.12.117'
    assert config.get('CONFIG_NET_SCH_CAKE') == 'm'
    assert config.get('CONFIG_ZRAM_MULTI_COMP') is NOT_SET
    assert config.get('CONFIG_IKCONFIG_PROC') is None
    assert config.get('CONFIG_DEFAULT_TCP_CONG') == 'cubic'
    assert config.get('CONFIG_ZRAM_DEF_COMP') == 'lz4'
    assert config.get('CONFIG_MAGIC_SYSRQ_DEFAULT_ENABLE') == '0x01b6'
    assert config.get('CONFIG_CC_VERSION_TEXT') == 'x86_64-linux-gnu-gcc-14 (Debian 14.2.0-19) 14.2.0'
    assert config.is_enabled('CONFIG_NET_SCH_TAPRIO')
    assert not config.is_enabled('CONFIG_KGDB')


def test_bookworm_and_host_configs_parse_completely():
    bookworm = read_config_file(BOOKWORM)
    host = read_config_file(HOST)
    assert bookworm.version == '6.1.192' or bookworm.version.startswith('6.1.')
    assert 'CONFIG_ZRAM_MULTI_COMP' not in bookworm.options
    assert host.get('CONFIG_LOCALVERSION') == '-fc-v669'
    assert host.get('CONFIG_TCP_CONG_BBR') == 'y'
    # Every non-comment line of the file is accounted for.
    with open(HOST) as handle:
        lines = [line for line in handle if line.startswith('CONFIG_') or line.endswith(' is not set\n')]
    assert len(host.options) == len(lines)


def test_to_dict_renders_not_set():
    config = read_config_file(TRIXIE)
    data = config.to_dict()
    assert data['CONFIG_ZRAM_MULTI_COMP'] == 'is not set'
    assert data['CONFIG_NET_SCH_CAKE'] == 'm'


def test_gzip_config_like_proc_config_gz(tmp_path):
    target = tmp_path / 'config.gz'
    with open(HOST, 'rb') as src, gzip.open(str(target), 'wb') as dst:
        shutil.copyfileobj(src, dst)
    config = read_config_file(str(target))
    assert config.get('CONFIG_IKCONFIG_PROC') == 'y'


def test_malformed_line_is_named(tmp_path):
    with open(TRIXIE) as handle:
        lines = handle.read().splitlines()
    lines.insert(99, 'CONFIG_BROKEN value without equals')
    bad = tmp_path / 'bad.config'
    bad.write_text('\n'.join(lines))
    with pytest.raises(SourceError, match=r'bad\.config:100: not a kernel config line'):
        read_config_file(str(bad))


def test_unterminated_string_is_named():
    with pytest.raises(SourceError, match=r'x:2: unterminated string'):
        parse_kconfig('CONFIG_A=y\nCONFIG_LOCALVERSION="-oops\n', source='x')


def test_escaped_string_value():
    config = parse_kconfig('CONFIG_CMDLINE="quiet \\"a b\\" c\\\\d"\n')
    assert config.get('CONFIG_CMDLINE') == 'quiet "a b" c\\d'


def test_not_a_config_file(tmp_path):
    empty = tmp_path / 'empty'
    empty.write_text('# only a comment\n')
    with pytest.raises(SourceError, match='no CONFIG_ options'):
        read_config_file(str(empty))
    binary = tmp_path / 'bin'
    binary.write_bytes(b'\xff\xfe\x00garbage')
    with pytest.raises(SourceError, match='is not text'):
        read_config_file(str(binary))


def test_running_config_falls_back_to_boot(tmp_path):
    (tmp_path / 'boot').mkdir()
    shutil.copy(TRIXIE, str(tmp_path / 'boot' / 'config-6.12.117+deb13-amd64'))
    config, tried = read_running_config('6.12.117+deb13-amd64', str(tmp_path))
    assert config.source.endswith('boot/config-6.12.117+deb13-amd64')
    assert tried == ['%s (missing)' % os.path.join(str(tmp_path), 'proc/config.gz')]


def test_running_config_missing_everywhere_lists_what_was_tried(tmp_path):
    with pytest.raises(SourceError) as excinfo:
        read_running_config('6.19.6-Hyperion-2.2.4', str(tmp_path))
    message = str(excinfo.value)
    for candidate in running_config_candidates('6.19.6-Hyperion-2.2.4', str(tmp_path)):
        assert candidate in message


def test_unreadable_file_is_a_clean_error(tmp_path):
    with pytest.raises(SourceError, match='cannot read kernel config'):
        read_config_file(str(tmp_path / 'nope'))
