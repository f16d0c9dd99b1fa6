#!/usr/bin/env bash
# Stop the daemons that tests/slurm/start_cluster.sh started (by the pids it recorded in
# $HGRECON_SLURM_DIR/started), and remove the slurm.conf/gres.conf it wrote.
# Daemons it found already running are left alone. --purge also deletes the state dir.
set -uo pipefail

STATE=${HGRECON_SLURM_DIR:-/tmp/hgrecon-slurm}
MARK="# hgrecon single-node test cluster (tests/slurm/start_cluster.sh)"

if [ -s "$STATE/started" ]; then
    # reverse order: slurmd, slurmctld, munged
    tac "$STATE/started" | while read -r name pid; do
        if kill -0 "$pid" 2>/dev/null && grep -q "$name" "/proc/$pid/comm" 2>/dev/null; then
            kill "$pid"
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
            echo "stop_cluster: stopped $name (pid $pid)"
        fi
    done
    rm -f "$STATE/started"
else
    echo "stop_cluster: nothing recorded in $STATE/started"
fi

for f in /etc/slurm/slurm.conf /etc/slurm/gres.conf; do
    if [ -e "$f" ] && head -n 1 "$f" | grep -qF "$MARK"; then rm -f "$f"; fi
done
if [ "${1:-}" = "--purge" ]; then rm -rf "$STATE"; fi
