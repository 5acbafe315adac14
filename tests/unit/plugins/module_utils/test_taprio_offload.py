# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The drivers that can run a taprio schedule in full offload, and a link's driver read from sysfs.

The sysfs layout is the build machine's, captured in fixtures/sysfs-net/ (a virtio NIC, virtual links
without a device); the kernel-source side is test_taprio_offload_kernel.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError
from ansible_collections.hyperion.kernel.plugins.module_utils.taprio_offload import (
    OFFLOAD_DRIVERS, OFFLOAD_KERNEL, OFFLOAD_SOURCES, check_full_offload, read_link_driver, trusted_drivers)

LINKS = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'sysfs-net', 'build-machine-links.txt')


@pytest.fixture
def sys_root(tmp_path):
    """/sys/class/net of the capture, rebuilt with its own relative links under a scratch /sys."""
    with open(LINKS) as handle:
        rows = [line.rstrip('\n').split('\t') for line in handle if not line.startswith('#')]
    root = tmp_path / 'sys'
    (root / 'class' / 'net').mkdir(parents=True)
    for name, link, device, driver in rows:
        entry = root / 'class' / 'net' / name
        target = (entry.parent / link).resolve()
        target.mkdir(parents=True)
        entry.symlink_to(link)
        if device != '-':
            device_dir = (target / device).resolve()
            device_dir.mkdir(parents=True, exist_ok=True)
            (target / 'device').symlink_to(device)
            if driver != '-':
                driver_dir = (device_dir / driver).resolve()
                driver_dir.mkdir(parents=True, exist_ok=True)
                (device_dir / 'driver').symlink_to(driver)
    return str(root), dict((row[0], row) for row in rows)


def test_the_capture_has_a_nic_and_virtual_links(sys_root):
    _root, rows = sys_root
    assert rows['eth0'][3].endswith('/virtio_net')
    assert rows['lo'][2] == rows['ifb0'][2] == '-'


def test_a_link_s_driver_is_the_name_of_its_device_s_driver_link(sys_root):
    root, rows = sys_root
    assert read_link_driver('eth0', root) == 'virtio_net'
    # Virtual links have no device, so no driver; a missing link or a name that is no link name neither.
    for device in ('lo', 'ifb0', 'ifb1', 'hyp-none0', '../../..', 'eth0/device', ''):
        assert read_link_driver(device, root) is None, device
    assert sorted(rows) == ['eth0', 'ifb0', 'ifb1', 'lo']


def test_the_table_lists_each_driver_once_and_sorted():
    assert list(OFFLOAD_DRIVERS) == sorted(set(OFFLOAD_DRIVERS))
    assert 'igc' in OFFLOAD_DRIVERS and 'stmmaceth' in OFFLOAD_DRIVERS and 'netdevsim' in OFFLOAD_DRIVERS
    # igb answers the capability query for taprio but has no offload of it.
    assert 'igb' not in OFFLOAD_DRIVERS and 'virtio_net' not in OFFLOAD_DRIVERS
    assert all(path.startswith('drivers/net/') and path.endswith('.c') for path in OFFLOAD_SOURCES)


@pytest.mark.parametrize('driver, trusted, message', [
    (None, (), 'taprio mode full-offload needs a driver that runs the schedule in hardware (ndo_setup_tc with '
               'TC_SETUP_QDISC_TAPRIO), and d0 has no device driver (a virtual link such as dummy, veth or a bridge '
               'has none). The drivers that can, as of Linux 6.12.118: am65-cpsw-nuss, anarion-dwmac,'),
    ('virtio_net', (), "and d0's driver is virtio_net. The drivers that can, as of Linux 6.12.118: "),
    ('igb', ('igc2',), "d0's driver is igb."),
    ('e1000e', (), 'can be trusted with the option taprio_offload_drivers (the network role\'s '
                   'network_taprio_offload_drivers); else use mode software or txtime-assist'),
    ('bad name\n', (), "d0 has the driver 'bad name\\n'"),
])
def test_full_offload_is_refused_naming_the_driver_and_those_that_can(driver, trusted, message):
    with pytest.raises(HyperionError) as excinfo:
        check_full_offload('d0', driver, trusted)
    assert message in str(excinfo.value)
    assert 'igc, ' in str(excinfo.value) and '\n' not in str(excinfo.value)


def test_a_listed_or_trusted_driver_passes():
    assert check_full_offload('enp1s0', 'igc') is None
    assert check_full_offload('enp1s0', 'virtio_net', ('virtio_net',)) is None


@pytest.mark.parametrize('names, message', [
    ('igc', 'taprio_offload_drivers must be a list of driver names'),
    (['igc', 'rk gmac'], 'taprio_offload_drivers[1] must be a driver name of letters, digits, "_", "." and "-"'),
    (['igc\n'], 'taprio_offload_drivers[0] must be a driver name'),
    ([7], 'taprio_offload_drivers[0] must be a driver name'),
    (['-x'], 'taprio_offload_drivers[0] must be a driver name'),
])
def test_trusted_driver_names_are_checked_whole(names, message):
    with pytest.raises(HyperionError) as excinfo:
        trusted_drivers(names)
    assert message in str(excinfo.value)


def test_trusted_drivers_come_back_as_given():
    assert trusted_drivers(None) == ()
    assert trusted_drivers(['rk_gmac-dwmac', 'my.nic']) == ('rk_gmac-dwmac', 'my.nic')


@settings(max_examples=300, deadline=None)
@given(driver=st.one_of(st.none(), st.sampled_from(OFFLOAD_DRIVERS), st.text(max_size=20)),
       trusted=st.lists(st.one_of(st.sampled_from(OFFLOAD_DRIVERS), st.from_regex(r'[a-z][a-z0-9_-]{0,10}', fullmatch=True)),
                        max_size=3))
def test_full_offload_passes_exactly_the_listed_and_trusted_drivers(driver, trusted):
    try:
        check_full_offload('d0', driver, trusted_drivers(trusted))
    except HyperionError as exc:
        assert driver not in OFFLOAD_DRIVERS and driver not in trusted
        assert 'The drivers that can, as of Linux 6.12.118' in str(exc)
        assert ('no device driver' in str(exc)) == (driver is None)
    else:
        assert driver in OFFLOAD_DRIVERS or driver in trusted


def _named_drivers(text):
    """The driver names a text formats as code (C(igc) or `igc`), without the kernel's own identifiers."""
    words = set(re.findall(r'C\(([^)]+)\)', text)) | set(re.findall(r'`([^`]+)`', text))
    return set(word for word in words if re.fullmatch(r'[a-z][a-z0-9_-]*', word) and word not in NOT_DRIVERS)


NOT_DRIVERS = ('ndo_setup_tc', 'flags', 'clockid', 'txtime_delay', 'full-offload', 'network_taprio_offload_drivers')


def test_the_documentation_names_listed_drivers_and_the_table_s_kernel():
    """The module's option, the role's variable and its README name drivers of the table and its kernel version."""
    import yaml
    from ansible_collections.hyperion.kernel.plugins.modules import tc_qdisc
    from ansible_collections.hyperion.kernel.tests.unit.collection_paths import ROOT
    module = ' '.join(yaml.safe_load(tc_qdisc.DOCUMENTATION)['options']['taprio_offload_drivers']['description'])
    with open(os.path.join(ROOT, 'roles', 'network', 'meta', 'argument_specs.yml')) as handle:
        role = ' '.join(yaml.safe_load(handle)['argument_specs']['main']['options']['network_taprio_offload_drivers']
                        ['description'])
    with open(os.path.join(ROOT, 'roles', 'network', 'README.md')) as handle:
        readme = handle.read()
    readme = readme[readme.index('- `full-offload`'):readme.index('```yaml', readme.index('- `full-offload`'))]
    for text in (module, role, readme):
        assert 'Linux %s' % OFFLOAD_KERNEL in text
        named = _named_drivers(text)
        assert named and named <= set(OFFLOAD_DRIVERS), sorted(named - set(OFFLOAD_DRIVERS))
