# -*- coding: utf-8 -*-
# Copyright: contributors to the hyperion.kernel collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The profile's items as one shell check each: the baselines of the audit benchmark.

The baselines (a testinfra suite, a playbook with one shell task per item) must check
the same items as hyperion.kernel.profile_check, the way an administrator would write
them without the collection: one remote command per item that reads the item's
source and compares it there. Each command is POSIX sh (dash runs it under Ansible's
shell module, bash under testinfra's ssh) and ends with

  exit 0  pass          exit 1  fail (drift)
  exit 3  not applicable   exit 4  unknown (the source could not be read)

and prints ``actual=<value>`` so a run can be compared item by item with the
module's results (the benchmark does that for every host it audits).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from shlex import quote
except ImportError:  # pragma: no cover - Python 2 is not a controller here
    from pipes import quote

EXIT_STATUS = {0: 'pass', 1: 'fail', 3: 'not_applicable', 4: 'unknown'}

# Shell helpers; each check carries only the ones it calls.
HELPERS = {
    # The running kernel's config, from the same places the core reads, in its order.
    'hb_conf': r'''hb_conf() {
  zcat /proc/config.gz 2>/dev/null && return 0
  r=$(uname -r)
  for f in "/boot/config-$r" "/usr/lib/modules/$r/config"; do [ -r "$f" ] && { cat "$f"; return 0; }; done
  return 1
}''',
    # Value of one option in a config text on stdin: the value unquoted, or 'is not set'.
    'hb_opt': r'''hb_opt() {
  sed -n -e "s/^$1=\"\(.*\)\"\$/\1/p" -e "/^$1=\"/d" -e "s/^$1=\(.*\)\$/\1/p" -e "s/^# $1 is not set\$/is not set/p"
}''',
    # The selected word of a bracketed choice file (lzo [zstd]); a single bare word selects itself.
    'hb_choice': r'''hb_choice() {
  awk '{for(i=1;i<=NF;i++){w=$i; if(w ~ /^\[.*\]$/){print substr(w,2,length(w)-2); found=1; exit}} if(NF==1) one=$1}
       END{if(!found && one!="") print one}' "$1"
}''',
    # Kernel version (6.12.57 from 6.12.57+deb13-amd64) and "a >= b" on versions.
    'hb_kver': r'''hb_kver() { uname -r | sed -n 's/^\([0-9][0-9]*\.[0-9][0-9]*\(\.[0-9][0-9]*\)\{0,1\}\).*/\1/p'; }
hb_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$2" ]; }''',
    # Numbers compare as numbers (0x1 = 1), anything else as text.
    'hb_same': r'''hb_same() {
  a=$(printf '%d' "$1" 2>/dev/null) && b=$(printf '%d' "$2" 2>/dev/null) && [ "$a" = "$b" ] && return 0
  awk -v a="$1" -v b="$2" 'BEGIN{n="^-?[0-9]+([.][0-9]+)?$"; if(a ~ n && b ~ n) exit !(a+0 == b+0); exit !(a == b)}'
}''',
}

# Block device names the core leaves out of I/O scheduler checks (blockdev._SKIPPED_DEVICE_RE).
_SKIPPED_BLOCK = r'^(loop|ram|zram|dm-|md|nbd|sr|fd)[0-9]*'


def _reader(item_id):
    """(shell lines that set v and u, helpers needed) for an item id.

    v is the actual value; u=1 means "not set / absent" (the core's None).
    """
    kind, _sep, rest = item_id.partition(':')
    if item_id.startswith('CONFIG_'):
        return ['c=$(hb_conf) || { echo "actual=? no kernel config"; exit 4; }',
                'v=$(printf "%%s\\n" "$c" | hb_opt %s)' % item_id,
                '[ -n "$v" ] && [ "$v" != "is not set" ] && u=0'], ['hb_conf', 'hb_opt']
    if kind == 'sysctl':
        path = '/proc/sys/' + rest.replace('.', '/')
        return ['f=%s' % path,
                'if [ -e "$f" ]; then v=$(cat "$f") || exit 4; v=$(echo $v); u=0; fi'], []
    if kind == 'bore':
        return ['f=/proc/sys/kernel/sched_burst_smoothness',
                'if [ ! -e "$f" ] && { [ -e "$f"_long ] || [ -e "$f"_short ]; }; then echo "actual=? BORE 5.x"; exit 3; fi',
                'if [ -e "$f" ]; then v=$(cat "$f") || exit 4; v=$(echo $v); u=0; fi'], []
    if kind == 'cmdline':
        name = rest.replace('-', '_')
        return ['[ -r /proc/cmdline ] || exit 4',
                "v=$(awk -v k=%s '{for(i=1;i<=NF;i++){w=$i; if(w==\"--\") break; n=index(w,\"=\");"
                " key=(n ? substr(w,1,n-1) : w); gsub(\"-\",\"_\",key);"
                " if(key==k){val=(n ? substr(w,n+1) : \"\"); gsub(/^\"|\"$/,\"\",val); f=1}}}"
                " END{if(f) print (val==\"\" ? \"present\" : val)}' /proc/cmdline)" % quote(name),
                '[ -n "$v" ] && u=0'], []
    if kind == 'modparam':
        module, _sep, param = rest.partition('.')
        return ['[ -d /sys/module/%s ] || { echo "actual=? module not loaded"; exit 3; }' % module,
                'f=/sys/module/%s/parameters/%s' % (module, param),
                'if [ -e "$f" ]; then v=$(cat "$f") || exit 4; v=$(echo $v); u=0; fi'], []
    if kind == 'uname':
        return ['v=$(uname -r); u=0'], []
    if kind == 'zram':
        device, _sep, attr = rest.partition(':')
        base = '/sys/block/%s' % device
        if attr == 'comp_algorithm':
            return ['f=%s/comp_algorithm' % base,
                    'if [ -e "$f" ]; then v=$(hb_choice "$f") || exit 4; [ -n "$v" ] && u=0; fi'], ['hb_choice']
        if attr == 'recomp_algorithm':
            # The selected algorithm of the lowest priority that has one (#1: lz4 [lz4hc] zstd).
            return ['f=%s/recomp_algorithm' % base,
                    'if [ -e "$f" ]; then v=$(grep "\\[" "$f" | sort -t "#" -k 2 -n | head -n 1'
                    ' | sed -n "s/.*\\[\\([^]]*\\)\\].*/\\1/p"); [ -n "$v" ] && u=0; fi'], []
        # disksize as a share of MemTotal, rounded to 3 places as the core does.
        return ['if [ -e %s/disksize ]; then' % base,
                "  v=$(awk '/^MemTotal:/{m=$2} END{getline d < \"%s/disksize\"; printf \"%%.3f\", d/(m*1024.0)}'"
                " /proc/meminfo); u=0" % base,
                'fi'], []
    if kind == 'swap':
        device = rest.partition(':')[0]
        return ["v=$(awk -v d=%s 'NR>1{n=split($1,p,\"/\"); if(p[n]==d) print $5}' /proc/swaps)" % quote(device),
                '[ -n "$v" ] && u=0'], []
    if kind == 'qdisc':
        iface = rest.rpartition(':')[0]
        if iface == '@default_route':
            lines = ["devs=$(ip route show default | awk '{for(i=1;i<NF;i++) if($i==\"dev\") print $(i+1)}' | sort -u)",
                     '[ -n "$devs" ] || { echo "actual=? no default route"; exit 3; }']
        else:
            lines = ['devs=%s' % quote(iface), 'ip link show dev "$devs" >/dev/null 2>&1 || devs=']
        # Root qdisc kind per device; mq/mqprio roots add their children's kind (mq/cake, mq/mixed).
        lines += ['v=$(for d in $devs; do tc qdisc show dev "$d" | awk \'$1=="qdisc"{k=$2; h=$3; sub(/:.*/,"",h);'
                  ' if($4=="root"){rk=k; rh=h; next} if($4=="parent"){p=$5; sub(/:.*/,"",p); kids[p]=kids[p] " " k}}'
                  ' END{if(rk=="") exit; if(rk!="mq" && rk!="mqprio"){print rk; exit} n=split(kids[rh],c," ");'
                  ' if(n==0){print rk; exit} m=c[1]; for(i=2;i<=n;i++) if(c[i]!=m) m="mixed"; print rk "/" m}\';'
                  ' done | sort -u | paste -s -d, -)',
                  '[ -n "$v" ] && u=0']
        return lines, []
    if kind == 'iosched':
        return ['set +f  # the device glob below', 'v=$(for q in /sys/block/*/queue; do d=${q%%/queue}; d=${d##*/}',
                "  echo \"$d\" | grep -Eq '%s' && continue" % _SKIPPED_BLOCK,
                '  [ -r "$q/scheduler" ] && [ -r "$q/rotational" ] || continue',
                '  case $d in nvme*) cls=nvme ;; *) if [ "$(cat "$q/rotational")" = 1 ]; then cls=rotational; else cls=ssd; fi ;; esac',
                '  [ "$cls" = %s ] && hb_choice "$q/scheduler"' % quote(rest),
                'done | sort -u | paste -s -d, -)',
                '[ -n "$v" ] || { echo "actual=? no %s device"; exit 3; }' % rest,
                'u=0'], ['hb_choice']
    if kind == 'tracer':
        return ['t=; for f in /sys/kernel/tracing/available_tracers /sys/kernel/debug/tracing/available_tracers; do'
                ' [ -r "$f" ] && { t=$f; break; }; done',
                '[ -n "$t" ] || { echo "actual=? tracefs not readable"; exit 4; }',
                'grep -qw %s "$t" && { v=%s; u=0; }' % (quote(rest), quote(rest))], []
    if kind == 'dyndbg':
        return ['for f in /proc/dynamic_debug/control /sys/kernel/debug/dynamic_debug/control; do'
                ' [ -e "$f" ] && { v=$f; u=0; break; }; done'], []
    if kind == 'thp':
        return ['f=/sys/kernel/mm/transparent_hugepage/%s' % rest,
                'if [ -e "$f" ]; then v=$(hb_choice "$f") || exit 4; [ -n "$v" ] && u=0; fi'], ['hb_choice']
    if kind == 'sched':
        # The mode in parentheses of "none voluntary (full) lazy"; no file but the features' one: no PREEMPT_DYNAMIC.
        return ['d=/sys/kernel/debug/sched',
                '[ -r "$d/features" ] || { echo "actual=? debugfs not readable"; exit 4; }',
                '[ -e "$d/preempt" ] || { echo "actual=? no PREEMPT_DYNAMIC"; exit 3; }',
                'v=$(tr " " "\\n" < "$d/preempt" | sed -n "s/^(\\(.*\\))$/\\1/p"); [ -n "$v" ] && u=0'], []
    if kind == 'sched_feature':
        return ['f=/sys/kernel/debug/sched/features; [ -r "$f" ] || f=/sys/kernel/debug/sched_features',
                '[ -r "$f" ] || { echo "actual=? debugfs not readable"; exit 4; }',
                'for w in $(cat "$f"); do case $w in %s) v=on; u=0 ;; NO_%s) v=off; u=0 ;; esac; done' % (rest, rest)], []
    if kind == 'sched_ext':
        return ['f=/sys/kernel/sched_ext/state',
                'if [ -e "$f" ]; then v=$(cat "$f") || exit 4; u=0; fi'], []
    raise ValueError('no shell check for item %s' % item_id)


def _condition(condition):
    """Lines that exit 3 (not applicable) when an applies_if condition is unmet."""
    if condition == 'zram_swap_active':
        return ["awk 'NR>1{n=split($1,p,\"/\"); if(p[n] ~ /^zram/) f=1} END{exit !f}' /proc/swaps"
                " || { echo 'actual=? needs zram_swap_active'; exit 3; }"], []
    return ['c=$(hb_conf) || { echo "actual=? no kernel config"; exit 4; }',
            'case $(printf "%%s\\n" "$c" | hb_opt %s) in y|m) ;; *) echo "actual=? needs %s"; exit 3 ;; esac'
            % (condition, condition)], ['hb_conf', 'hb_opt']


def _compare(item):
    """The line that exits 0 when v matches the item, 1 otherwise."""
    match = item['match']
    if match == 'not_set':
        test = '[ "$u" = 1 ]'
    elif match == 'present':
        test = '[ "$u" = 0 ]'
    elif match == 'enabled':
        test = '{ [ "$v" = y ] || [ "$v" = m ]; }'
    elif match == 'exact':
        test = '{ [ "$u" = 0 ] && hb_same "$v" %s; }' % quote(_scalar(item['value']))
    elif match == 'one_of':
        test = '{ [ "$u" = 0 ] && { %s; }; }' % ' || '.join(
            'hb_same "$v" %s' % quote(_scalar(value)) for value in item['values'])
    elif match == 'range':
        low, high = item.get('min'), item.get('max')
        test = ("{ [ \"$u\" = 0 ] && awk -v x=\"$v\" 'BEGIN{if(x !~ /^-?[0-9]+([.][0-9]+)?$/) exit 1;"
                " exit !(%s)}'; }" % ' && '.join(
                    part for part in ('x+0 >= %s' % _scalar(low) if low is not None else '',
                                      'x+0 <= %s' % _scalar(high) if high is not None else '') if part))
    elif match == 'pattern':
        test = '{ [ "$u" = 0 ] && printf "%%s" "$v" | grep -Eq -- %s; }' % quote(item['pattern'])
    else:
        raise ValueError('unknown match %r in %s' % (match, item['id']))
    return 'echo "actual=$v"; %s && exit 0; exit 1' % test


def _scalar(value):
    if isinstance(value, bool):
        return 'y' if value else 'n'
    return str(value)


def shell_check(item):
    """The POSIX sh script that checks one resolved profile item on a host."""
    if item.get('skip'):
        return 'echo "actual=? skipped"; exit 3'
    lines = ['set -f', 'v=; u=1']
    helpers = []
    since, until = item.get('since'), item.get('until')
    if since or until:
        helpers.append('hb_kver')
        lines.append('k=$(hb_kver)')
        if since:
            lines.append('[ -z "$k" ] || hb_ge "$k" %s || { echo "actual=? kernel older than %s"; exit 3; }'
                         % (since, since))
        if until:
            lines.append('[ -z "$k" ] || ! hb_ge "$k" %s || { echo "actual=? removed in %s"; exit 3; }'
                         % (until, until))
    for condition in item.get('applies_if', []):
        more, needed = _condition(condition)
        lines += more
        helpers += needed
    more, needed = _reader(item['id'])
    lines += more
    helpers += needed
    if item['match'] in ('exact', 'one_of'):
        helpers.append('hb_same')
    lines.append(_compare(item))
    used = [HELPERS[name] for name in HELPERS if name in helpers]
    return '\n'.join(used + lines)


def python_name(index, item_id):
    """A test function name for an item: test_0042_zram_zram0_recomp_algorithm."""
    return 'test_%04d_%s' % (index, re.sub(r'[^0-9A-Za-z]+', '_', item_id).strip('_'))
