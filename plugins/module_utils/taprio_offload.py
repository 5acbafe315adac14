# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which network drivers can run a taprio schedule in full offload, and which driver a link has.

The kernel hands a full-offload schedule to the driver (``ndo_setup_tc`` with
``TC_SETUP_QDISC_TAPRIO``, net/sched/sch_taprio.c ``taprio_enable_offload``);
a driver without it refuses only when ``tc`` runs, and a taprio replacing a
taprio is deleted first (qdisc_plan.must_delete_first), so the refusal would
leave the link with the kernel's default qdisc. Asking the link is not
possible without trying, so the drivers that implement it are kept here as
data and the link's driver is read from sysfs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from .errors import HyperionError
from .validation import is_valid, require

# Derived from Linux 6.12.118 (Debian's linux-source-6.12, the tree `make kernel-package` unpacks): every file
# under drivers/net with a `case TC_SETUP_QDISC_TAPRIO:` outside a *query_caps function (an ndo_setup_tc or a
# DSA port_setup_tc), and the drivers that bind the device of such a link, as /sys/class/net/IF/device/driver
# names them: the driver declared in that file, else in the files of its module (Makefile), else, for a
# library such as stmmac, every driver of its directory (the glue drivers). igb answers TC_QUERY_CAPS for
# taprio but does not offload it. tests/unit/plugins/module_utils/test_taprio_offload_kernel.py derives the
# same from a kernel tree and fails when this table lags it.
OFFLOAD_KERNEL = '6.12.118'
OFFLOAD_SOURCES = {
    'drivers/net/dsa/hirschmann/hellcreek.c': ('hellcreek',),
    'drivers/net/dsa/ocelot/felix_vsc9959.c': ('mscc_felix',),
    'drivers/net/dsa/sja1105/sja1105_main.c': ('sja1105',),
    'drivers/net/ethernet/engleder/tsnep_tc.c': ('tsnep',),
    'drivers/net/ethernet/freescale/enetc/enetc_pf.c': ('fsl_enetc',),
    'drivers/net/ethernet/intel/igc/igc_main.c': ('igc',),
    'drivers/net/ethernet/microchip/lan966x/lan966x_tc.c': ('lan966x-switch',),
    # stmmac offloads taprio on hardware with EST; each platform or PCI glue driver binds its own devices.
    'drivers/net/ethernet/stmicro/stmmac/stmmac_main.c': (
        'anarion-dwmac', 'dwc-eth-dwmac', 'dwmac-loongson-pci', 'dwmac-mediatek', 'dwmac-sun8i', 'imx-dwmac',
        'ingenic-mac', 'intel-eth-pci', 'intel-eth-plat', 'ipq806x-gmac-dwmac', 'loongson1-dwmac', 'lpc18xx-dwmac',
        'meson6-dwmac', 'meson8b-dwmac', 'qcom-ethqos', 'rk_gmac-dwmac', 'rzn1-dwmac', 'socfpga-dwmac',
        'starfive-dwmac', 'sti-dwmac', 'stm32-dwmac', 'stmmaceth', 'sun7i-dwmac', 'tegra-mgbe', 'visconti-eth-dwmac'),
    'drivers/net/ethernet/ti/am65-cpsw-qos.c': ('am65-cpsw-nuss',),
    'drivers/net/netdevsim/netdev.c': ('netdevsim',),
}
OFFLOAD_DRIVERS = tuple(sorted(set(name for names in OFFLOAD_SOURCES.values() for name in names)))


def read_link_driver(device, sys_root='/sys'):
    """The name of the driver bound to DEVICE's device, or None: a link without one (dummy, veth, a bridge),
    or no such link (the caller's read of the link says so)."""
    if not is_valid('netdev', device):
        return None
    try:
        target = os.readlink(os.path.join(sys_root, 'class', 'net', device, 'device', 'driver'))
    except (IOError, OSError):
        return None
    return os.path.basename(target.rstrip('/')) or None


def trusted_drivers(names, what='taprio_offload_drivers'):
    """The site's own list of drivers to trust with a full offload, each a driver name checked whole."""
    if names is None:
        return ()
    if not isinstance(names, (list, tuple)):
        raise HyperionError('%s must be a list of driver names, got %r' % (what, names))
    return tuple(require('driver_name', name, '%s[%d]' % (what, index)) for index, name in enumerate(names))


def check_full_offload(device, driver, trusted=()):
    """Refuse a taprio full offload on DEVICE unless its DRIVER implements it (or the site TRUSTED it)."""
    if driver is not None and (driver in OFFLOAD_DRIVERS or driver in trusted):
        return
    if driver is None:
        have = '%s has no device driver (a virtual link such as dummy, veth or a bridge has none)' % device
    elif not is_valid('driver_name', driver):
        have = '%s has the driver %r' % (device, driver)
    else:
        have = "%s's driver is %s" % (device, driver)
    raise HyperionError(
        'taprio mode full-offload needs a driver that runs the schedule in hardware (ndo_setup_tc with '
        'TC_SETUP_QDISC_TAPRIO), and %s. The drivers that can, as of Linux %s: %s. A driver a newer kernel '
        'added can be trusted with the option taprio_offload_drivers (the network role\'s '
        'network_taprio_offload_drivers); else use mode software or txtime-assist'
        % (have, OFFLOAD_KERNEL, ', '.join(OFFLOAD_DRIVERS)))
