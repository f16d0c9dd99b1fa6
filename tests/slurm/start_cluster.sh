#!/usr/bin/env bash
# Start a single-node SLURM cluster on this machine for tests/test_slurm.py.
#
#   tests/slurm/start_cluster.sh        # as root (installs slurm-wlm and munge when missing)
#   HGRECON_SLURM_TEST=1 .venv/bin/pytest -m slurm
#   tests/slurm/stop_cluster.sh
#
# Debian 12 (SLURM 22.05). The node is this host, with two partitions on it: `cpu`
# (default) and `gpu`, the names workflow/profiles/slurm/partitions.yaml uses, and one
# declared `gpu` GRES with no device behind it, so that jobs asking for `--gpus=1` are
# scheduled; torch inside them sees no CUDA and (device: auto) runs on CPU. No accounting
# database: job states come from `squeue` (MinJobAge keeps finished jobs visible).
#
# State, logs and the list of the daemons this script started: $HGRECON_SLURM_DIR
# (default /tmp/hgrecon-slurm). stop_cluster.sh stops those daemons only.
set -euo pipefail

STATE=${HGRECON_SLURM_DIR:-/tmp/hgrecon-slurm}
CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
MARK="# hgrecon single-node test cluster (tests/slurm/start_cluster.sh)"
TIMEOUT=${HGRECON_SLURM_START_TIMEOUT:-60}

die() { echo "start_cluster: $*" >&2; exit 1; }
say() { echo "start_cluster: $*"; }

[ "$(id -u)" -eq 0 ] || die "run as root (installs packages, starts munged/slurmctld/slurmd)"

# 1. packages
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
        || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

# 2. configuration (never overwrite a slurm.conf that this script did not write)
for f in "$CONF" "$CONF_DIR/gres.conf"; do
    if [ -e "$f" ] && ! head -n 1 "$f" | grep -qF "$MARK"; then
        die "$f exists and was not written by this script; use that cluster, or move it away"
    fi
done
mkdir -p "$STATE/ctld" "$STATE/d" "$CONF_DIR"
: > "$STATE/started.tmp"

node_hw=$(slurmd -C | head -n 1)            # NodeName=... CPUs=... RealMemory=...
node=$(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' <<< "$node_hw")
hw=$(cut -d' ' -f2- <<< "$node_hw")
[ -n "$node" ] || die "slurmd -C gave no NodeName: $node_hw"

cat > "$CONF" <<EOF
$MARK
ClusterName=hgrecon
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
MinJobAge=600
SlurmdTimeout=60
GresTypes=gpu
NodeName=$node NodeAddr=127.0.0.1 $hw Gres=gpu:1 State=UNKNOWN
PartitionName=cpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=ALL MaxTime=INFINITE State=UP
EOF
cat > "$CONF_DIR/gres.conf" <<EOF
$MARK
AutoDetect=off
NodeName=$node Name=gpu Count=1 File=/dev/null
EOF

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
keep_record() {   # a daemon this script started on an earlier call stays ours
    local name pid
    [ -s "$STATE/started" ] || return 0
    while read -r name pid; do
        if [ "$name" = "$1" ] && kill -0 "$pid" 2>/dev/null; then
            echo "$name $pid" >> "$STATE/started.tmp"
        fi
    done < "$STATE/started"
}

# 3. munge
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "munged already running"
    keep_record munged
else
    [ -s /etc/munge/munge.key ] || { mungekey -c -f 2>/dev/null || create-munge-key -f; }
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    install -d -o munge -g munge -m 0755 /run/munge
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 50); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.2
    done
    munge -n | unmunge >/dev/null || die "munged did not start (see /var/log/munge/munged.log)"
    echo "munged $(cat /run/munge/munged.pid)" >> "$STATE/started.tmp"
    say "munged started"
fi

# 4. slurmctld, slurmd
start() {   # start NAME: the daemon, unless the one this script started before still runs
    local name=$1 pidfile=$STATE/$1.pid
    if alive "$pidfile"; then
        say "$name already running (pid $(cat "$pidfile"))"
        keep_record "$name"
        return
    fi
    if [ "$name" = slurmctld ]; then /usr/sbin/slurmctld -c -i; else /usr/sbin/slurmd; fi
    for _ in $(seq 50); do alive "$pidfile" && break; sleep 0.2; done
    alive "$pidfile" || die "$name did not start; log: $STATE/$name.log"
    echo "$name $(cat "$pidfile")" >> "$STATE/started.tmp"
    say "$name started (pid $(cat "$pidfile"))"
}
start slurmctld
start slurmd
mv "$STATE/started.tmp" "$STATE/started"

# 5. wait until the node is idle
for _ in $(seq "$TIMEOUT"); do
    state=$(sinfo -h -N -n "$node" -o %t 2>/dev/null | head -n 1 || true)
    case "$state" in idle*) break ;; esac
    case "$state" in drain*|down*) scontrol update NodeName="$node" State=RESUME 2>/dev/null || true ;; esac
    sleep 1
done
case "$state" in
    idle*) ;;
    *) tail -n 20 "$STATE/slurmctld.log" "$STATE/slurmd.log" >&2
       die "node $node is '$state', not idle, after ${TIMEOUT}s" ;;
esac
sinfo
say "ready: node $node, partitions cpu (default) and gpu, 1 declared gpu GRES"
