# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""managed_files: files written in one call, the state before the first change recorded and put back.

The property test starts from random trees (files with random content and modes, symbolic links,
missing paths and directories), changes them in random rounds the way the roles do, and checks that
each round is idempotent and that a restore gives back exactly the tree it started from.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import grp
import json
import os
import pwd
import stat
import tempfile

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.hyperion.kernel.plugins.module_utils import managed_files as mf
from ansible_collections.hyperion.kernel.plugins.module_utils.errors import HyperionError

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def spec(path, content=None, mode='0644', state='present'):
    entry = {'path': str(path), 'state': state, 'mode': mode, 'owner': OWNER, 'group': GROUP}
    if content is not None:
        entry['content'] = content
    return entry


def converge(specs, snapshot):
    return mf.apply(mf.plan(mf.wanted_files(specs)), str(snapshot))


def tree(root):
    """Everything under root (but the snapshot) as {relative path: what is there}."""
    found = {}
    for base, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != 'snapshot']
        for name in dirs + names:
            path = os.path.join(base, name)
            info = os.lstat(path)
            rel = os.path.relpath(path, root)
            if stat.S_ISLNK(info.st_mode):
                found[rel] = ('link', os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                found[rel] = ('dir', stat.S_IMODE(info.st_mode))
            else:
                with open(path, 'rb') as handle:
                    found[rel] = ('file', handle.read(), stat.S_IMODE(info.st_mode))
    return found


@pytest.mark.parametrize('files, message', [
    ([{'path': 'etc/x.conf', 'content': 'a'}], 'absolute path'),
    ([{'path': '/etc/../x.conf', 'content': 'a'}], 'normalised'),
    ([{'path': '/', 'content': 'a'}], 'absolute path of a file'),
    ([{'path': '/etc/x.conf', 'content': 'a'}, {'path': '/etc/x.conf', 'state': 'absent'}], 'named twice'),
    ([{'path': '/etc/x.conf'}], 'needs content'),
    ([{'path': '/etc/x.conf', 'state': 'absent', 'content': 'a'}], 'absent and content'),
    ([{'path': '/etc/x.conf', 'content': 'a', 'state': 'gone'}], 'state must be one of'),
    ([{'path': '/etc/x.conf', 'content': 'a', 'mode': '0644\n'}], 'octal mode'),
    ([{'path': '/etc/x.conf', 'content': 'a', 'mode': 'u+rw'}], 'octal mode'),
    ([{'path': '/etc/x.conf', 'content': 'a', 'owner': 'no-such-user-hyperion'}], 'owner'),
    ([{'path': '/etc/x.conf', 'content': 'a', 'group': 'no-such-group-hyperion'}], 'group'),
    (['/etc/x.conf'], 'must be a dict'),
])
def test_bad_descriptions_are_refused_before_anything_is_read(files, message):
    with pytest.raises(HyperionError, match=message):
        mf.wanted_files(files)


def test_a_file_is_recorded_before_its_first_change_and_only_then(tmp_path):
    conf = tmp_path / 'etc' / 'zram-generator.conf'
    conf.parent.mkdir()
    conf.write_bytes(b'[zram0]\nzram-size = ram / 2\n')
    os.chmod(str(conf), 0o600)
    snapshot = tmp_path / 'snapshot'

    assert converge([spec(conf, 'first\n')], snapshot) == [str(conf)]
    assert conf.read_text() == 'first\n' and stat.S_IMODE(conf.stat().st_mode) == 0o644
    assert converge([spec(conf, 'second\n', mode='0640')], snapshot) == []  # already recorded
    assert mf.plan(mf.wanted_files([spec(conf, 'second\n', mode='0640')])) == []

    manifest = json.loads((snapshot / 'manifest.json').read_text())
    assert manifest['paths'][str(conf)]['kind'] == 'file' and manifest['paths'][str(conf)]['mode'] == '0600'
    assert stat.S_IMODE((snapshot / 'manifest.json').stat().st_mode) == 0o600

    restores, dirs = mf.plan_restore(str(snapshot))
    assert [item.path for item in restores] == [str(conf)] and dirs == []
    mf.restore(str(snapshot), restores, dirs)
    assert conf.read_bytes() == b'[zram0]\nzram-size = ram / 2\n'
    assert stat.S_IMODE(conf.stat().st_mode) == 0o600
    assert not snapshot.exists()


def test_a_mode_change_alone_is_a_metadata_change(tmp_path):
    script = tmp_path / 'recompress'
    script.write_text('#!/bin/sh\n')
    os.chmod(str(script), 0o644)
    [change] = mf.plan(mf.wanted_files([spec(script, '#!/bin/sh\n', mode='0755')]))
    assert change.action == 'metadata'
    mf.apply([change], str(tmp_path / 'snapshot'))
    assert stat.S_IMODE(script.stat().st_mode) == 0o755


def test_directories_made_for_a_file_go_again_with_the_restore(tmp_path):
    dropin = tmp_path / 'system' / 'systemd-zram-setup@.service.d' / '50-hyperion-zswap-off.conf'
    snapshot = tmp_path / 'snapshot'
    converge([spec(dropin, '[Service]\n')], snapshot)
    assert dropin.read_text() == '[Service]\n'
    assert stat.S_IMODE(dropin.parent.stat().st_mode) == 0o755
    restores, dirs = mf.plan_restore(str(snapshot))
    assert dirs == [str(dropin.parent), str(dropin.parent.parent)]
    assert mf.restore(str(snapshot), restores, dirs) == dirs
    assert not (tmp_path / 'system').exists()


def test_a_made_directory_that_holds_other_files_stays(tmp_path):
    unit = tmp_path / 'units' / 'hyperion-qdisc@.service'
    snapshot = tmp_path / 'snapshot'
    converge([spec(unit, '[Unit]\n')], snapshot)
    (tmp_path / 'units' / 'admins-own.service').write_text('[Unit]\n')
    mf.restore(str(snapshot), *mf.plan_restore(str(snapshot)))
    assert not unit.exists() and (tmp_path / 'units' / 'admins-own.service').exists()


def test_a_symbolic_link_is_recorded_and_put_back(tmp_path):
    link = tmp_path / 'default.target'
    os.symlink('/lib/systemd/system/graphical.target', str(link))
    snapshot = tmp_path / 'snapshot'
    converge([spec(link, 'a file now\n')], snapshot)
    assert not link.is_symlink() and link.read_text() == 'a file now\n'
    mf.restore(str(snapshot), *mf.plan_restore(str(snapshot)))
    assert os.readlink(str(link)) == '/lib/systemd/system/graphical.target'


def test_a_directory_in_the_way_is_refused(tmp_path):
    (tmp_path / 'rules.d').mkdir()
    with pytest.raises(HyperionError, match='not a regular file'):
        mf.plan(mf.wanted_files([spec(tmp_path / 'rules.d', 'x')]))
    (tmp_path / 'plain').write_text('x')
    with pytest.raises(HyperionError, match='in the way'):
        converge([spec(tmp_path / 'plain' / 'below', 'x')], tmp_path / 'snapshot')


def test_a_damaged_snapshot_fails_before_anything_is_restored(tmp_path):
    one, two = tmp_path / 'a.conf', tmp_path / 'b.conf'
    one.write_text('old a\n')
    two.write_text('old b\n')
    snapshot = tmp_path / 'snapshot'
    converge([spec(one, 'new a\n'), spec(two, 'new b\n')], snapshot)
    blob = snapshot / 'blobs' / mf._blob_name(str(two))
    blob.write_text('tampered\n')
    with pytest.raises(HyperionError, match='checksum'):
        mf.plan_restore(str(snapshot))
    assert one.read_text() == 'new a\n' and two.read_text() == 'new b\n'
    (snapshot / 'manifest.json').write_text('{"schema": 99}')
    with pytest.raises(HyperionError, match='unknown layout'):
        mf.plan_restore(str(snapshot))


def test_removing_a_file_records_it_and_the_restore_brings_it_back(tmp_path):
    old = tmp_path / '60-zram-tools.conf'
    old.write_text('ALGO=lz4\n')
    snapshot = tmp_path / 'snapshot'
    converge([spec(old, state='absent')], snapshot)
    assert not old.exists()
    assert mf.plan(mf.wanted_files([spec(old, state='absent')])) == []
    mf.restore(str(snapshot), *mf.plan_restore(str(snapshot)))
    assert old.read_text() == 'ALGO=lz4\n'


def test_the_links_systemctl_enable_made_to_a_removed_unit_go_with_it(tmp_path):
    """As systemd lays them out: an enabled timer and a template unit's instance link point at files the
    collection wrote; a link of the site's own and a unit that was there before stay."""
    units = tmp_path / 'systemd' / 'system'
    (units / 'timers.target.wants').mkdir(parents=True)
    (units / 'multi-user.target.wants').mkdir()
    site = units / 'site-backup.timer'
    site.write_text('[Timer]\n')
    (units / 'timers.target.wants' / 'site-backup.timer').symlink_to(site)
    snapshot = tmp_path / 'snapshot'
    timer, template = units / 'hyperion-zram-recompress.timer', units / 'hyperion-qdisc@.service'
    converge([spec(timer, '[Timer]\n'), spec(template, '[Service]\n'), spec(site, '[Timer]\nOnCalendar=daily\n')],
             snapshot)
    # What systemctl enable makes (absolute targets, as it writes them).
    (units / 'timers.target.wants' / timer.name).symlink_to(timer)
    (units / 'multi-user.target.wants' / 'hyperion-qdisc@eth1.service').symlink_to(template)
    restores, dirs = mf.plan_restore(str(snapshot), [str(units)])
    assert sorted(os.path.relpath(item.path, str(units)) for item in restores if item.after['kind'] == 'absent') == [
        'hyperion-qdisc@.service', 'hyperion-zram-recompress.timer', 'multi-user.target.wants/hyperion-qdisc@eth1.service',
        'timers.target.wants/hyperion-zram-recompress.timer']
    mf.restore(str(snapshot), restores, dirs)
    assert sorted(os.listdir(str(units / 'timers.target.wants'))) == ['site-backup.timer']
    assert os.listdir(str(units / 'multi-user.target.wants')) == []
    assert site.read_text() == '[Timer]\n' and not timer.exists()
    # Without link_dirs the links are not looked for.
    assert mf.links_to([str(timer)], []) == []


def test_a_path_another_tool_changes_is_recorded_once_and_restored(tmp_path):
    grub = tmp_path / 'grub'
    grub.write_text('GRUB_CMDLINE_LINUX="quiet"\n')
    snapshot = tmp_path / 'snapshot'
    assert mf.record_current([str(grub), str(tmp_path / 'grub.d' / '90-hyperion-kernel.cfg')], str(snapshot)) == [
        str(grub), str(tmp_path / 'grub.d' / '90-hyperion-kernel.cfg')]
    grub.write_text('GRUB_CMDLINE_LINUX="quiet sysrq_always_enabled"\n')
    (tmp_path / 'grub.d').mkdir()
    (tmp_path / 'grub.d' / '90-hyperion-kernel.cfg').write_text('GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX kgdboc=kbd"\n')
    # A second record keeps the first state.
    assert mf.record_current([str(grub)], str(snapshot)) == []
    mf.restore(str(snapshot), *mf.plan_restore(str(snapshot)))
    assert grub.read_text() == 'GRUB_CMDLINE_LINUX="quiet"\n'
    assert not (tmp_path / 'grub.d' / '90-hyperion-kernel.cfg').exists()


def test_no_snapshot_means_nothing_to_restore(tmp_path):
    assert mf.plan_restore(str(tmp_path / 'none')) == ([], [])


# Paths of the random trees: some share directories, some need new ones.
RELATIVE_PATHS = ['a.conf', 'b.conf', 'd/c.conf', 'd/e/f.conf', 'g/h.conf']
contents = st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=0x24F), max_size=40)
modes = st.sampled_from(['0644', '0600', '0755', '0640'])
initial_states = st.one_of(
    st.just(('absent',)),
    st.tuples(st.just('file'), st.binary(max_size=40), st.sampled_from([0o644, 0o600, 0o755])),
    st.tuples(st.just('link'), st.sampled_from(['/nonexistent/target', 'a.conf'])))
wanted_states = st.one_of(st.just(('absent',)), st.tuples(st.just('present'), contents, modes))


@settings(max_examples=150, deadline=None)
@given(initial=st.dictionaries(st.sampled_from(RELATIVE_PATHS), initial_states),
       rounds=st.lists(st.dictionaries(st.sampled_from(RELATIVE_PATHS), wanted_states, min_size=1), min_size=1,
                       max_size=3))
def test_any_rounds_of_changes_are_idempotent_and_restore_the_start(initial, rounds):
    with tempfile.TemporaryDirectory() as root:
        for rel, state in sorted(initial.items()):
            path = os.path.join(root, rel)
            if state[0] == 'absent':
                continue
            if not os.path.isdir(os.path.dirname(path)):
                os.makedirs(os.path.dirname(path))
            if state[0] == 'file':
                with open(path, 'wb') as handle:
                    handle.write(state[1])
                os.chmod(path, state[2])
            else:
                os.symlink(state[1], path)
        start = tree(root)
        snapshot = os.path.join(root, 'snapshot')
        for wanted in rounds:
            specs = [spec(os.path.join(root, rel), state[1], state[2]) if state[0] == 'present'
                     else spec(os.path.join(root, rel), state='absent') for rel, state in sorted(wanted.items())]
            converge(specs, snapshot)
            assert mf.plan(mf.wanted_files(specs)) == []
            for rel, state in wanted.items():
                path = os.path.join(root, rel)
                if state[0] == 'present':
                    with open(path, 'rb') as handle:
                        assert handle.read() == state[1].encode('utf-8')
                    assert stat.S_IMODE(os.lstat(path).st_mode) == int(state[2], 8)
                else:
                    assert not os.path.lexists(path)
        mf.restore(snapshot, *mf.plan_restore(snapshot))
        assert tree(root) == start
        assert not os.path.exists(snapshot)


def test_purge_removes_the_files_no_plan_names_any_more(tmp_path):
    plans = tmp_path / 'qdisc'
    plans.mkdir()
    for name in ('enp3s0.tc', 'enp4s0.tc', 'README'):
        (plans / name).write_text(name + '\n')
    wanted = mf.wanted_files([spec(plans / 'enp3s0.tc', 'qdisc replace dev enp3s0 root cake\n')])
    purge = [{'path': str(plans), 'patterns': ['*.tc']}]
    purged = mf.purged_files(purge, wanted)
    assert [item.path for item in purged] == [str(plans / 'enp4s0.tc')]
    snapshot = tmp_path / 'snapshot'
    mf.apply(mf.plan(wanted + purged), str(snapshot))
    assert sorted(os.listdir(str(plans))) == ['README', 'enp3s0.tc']
    assert mf.purged_files(purge, wanted) == []
    assert mf.purged_files([{'path': str(tmp_path / 'missing'), 'patterns': ['*.tc']}], wanted) == []
    mf.restore(str(snapshot), *mf.plan_restore(str(snapshot)))
    assert (plans / 'enp4s0.tc').read_text() == 'enp4s0.tc\n' and (plans / 'enp3s0.tc').read_text() == 'enp3s0.tc\n'


@pytest.mark.parametrize('purge, message', [
    ([{'path': 'qdisc', 'patterns': ['*.tc']}], 'absolute path'),
    ([{'path': '/etc/hyperion-kernel/qdisc', 'patterns': []}], 'patterns'),
    ([{'path': '/etc/hyperion-kernel/qdisc', 'patterns': ['../*.tc']}], 'patterns'),
    (['/etc'], 'must be a dict'),
])
def test_bad_purge_entries_are_refused(purge, message):
    with pytest.raises(HyperionError, match=message):
        mf.purged_files(purge, [])


def test_a_rollout_keeps_its_snapshot_until_the_next_rollout_after_its_promotion(tmp_path):
    snapshot, conf = tmp_path / 'snapshot', tmp_path / 'zram-generator.conf'
    conf.write_text('[zram0]\n')  # the host before any rollout
    old, new, newer = '6.12.48+deb13-amd64', '6.12.118-hyperion', '6.12.119-hyperion'
    # No claim yet (a role run on its own recorded, or nothing): the first rollout takes what is there.
    assert mf.plan_claim(str(snapshot), new, old) == (False, True)
    mf.claim(str(snapshot), new, False)
    converge([spec(conf, '[zram0]\ncompression-algorithm = zstd\n')], snapshot)
    # Staged again (a deferred host, a fallback that kept its files): the same snapshot, nothing to claim.
    assert mf.plan_claim(str(snapshot), new, old) == (False, False)
    # Another release while the first never ran: the snapshot still describes the host as it runs.
    assert mf.plan_claim(str(snapshot), newer, old) == (False, True)
    # The first release was promoted and runs: the next rollout starts from the host with it.
    assert mf.plan_claim(str(snapshot), newer, new) == (True, True)
    mf.claim(str(snapshot), newer, True)
    assert mf.snapshot_owner(str(snapshot)) == newer and mf.plan_restore(str(snapshot)) == ([], [])
    converge([spec(conf, '[zram0]\ncompression-algorithm = lz4\n')], snapshot)
    # Its rollback goes back to the first release's settings, and forgets the snapshot with its owner.
    mf.restore(str(snapshot), *mf.plan_restore(str(snapshot)))
    assert conf.read_text() == '[zram0]\ncompression-algorithm = zstd\n' and not snapshot.exists()
