#!/usr/bin/env bash
# Chaos: 3 `wire serve` nodes; while clients write numbered keys (and
# overwrite some) through random nodes, and a counter key is incremented and
# read back with level=strong, kill -9 the leader and then a follower, 10
# rounds, restarting each. Afterwards every write that got a 200 is present
# with its last acknowledged value on EVERY node (level=none after
# /readyz?sync), and no strong read went back in time (cluster_kv.py verify).
# Bounded: each round waits at most ~70 s; the clients stop on a file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
cd "$TMP" || exit 1
ROUNDS=${CHAOS_ROUNDS:-10}
SEED=${CHAOS_SEED:-$RANDOM}
RANDOM=$SEED
echo "seed $SEED (CHAOS_SEED=$SEED repeats the kill timings)"

section chaos
# small snapshots so that restarts go through snapshot + log tail
check "chaos: 3 nodes formed" cluster_join 3 --raft-snap 256 --raft-snap-int 5s
ADDRS="${C_HTTP[n1]},${C_HTTP[n2]},${C_HTTP[n3]}"
CL=$TMP/chaos/clients
mkdir -p "$CL"
# python directly (not the kv_tool function) so that $! is the client itself
python3 "$C_LIBDIR/cluster_kv.py" chaos "$CL" "$ADDRS" 900 3 >"$CL/out" 2>&1 &
CPID=$!
T_PIDS+=("$CPID")
sleep 2

sleep_ms() { sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"; }
unexpected=()   # nodes found dead that we had not killed
no_leader=0     # rounds in which no leader came back within 30 s
not_ready=0     # rounds after which a node did not get ready within 40 s
failover_ms=()
for r in $(seq 1 "$ROUNDS"); do
    for id in n1 n2 n3; do
        if ! node_alive "$id"; then
            unexpected+=("$id@round$r")
            show_logs "$id"
            node_start "$id"
        fi
    done
    if ! L=$(wait_leader 30 n1 n2 n3); then
        no_leader=$((no_leader + 1))
        echo "  round $r: no leader before the kill"
        continue
    fi
    # 1. the leader
    t0=$(date +%s%N)
    node_kill "$L"
    read -ra REST <<<"$(followers_of "$L" n1 n2 n3)"
    NL=$(wait_leader 30 "${REST[@]}") || NL=
    t1=$(date +%s%N)
    ms=$(((t1 - t0) / 1000000))
    [ -n "$NL" ] && failover_ms+=("$ms")
    [ -n "$NL" ] || { no_leader=$((no_leader + 1)); echo "  round $r: no new leader after killing $L"; }
    sleep_ms $((RANDOM % 1000))
    node_start "$L"
    # 2. a follower of the new leader, killed while the old leader catches up
    sleep_ms $((200 + RANDOM % 800))
    F=
    if [ -n "$NL" ]; then
        read -ra FS <<<"$(followers_of "$NL" n1 n2 n3)"
        F=${FS[$((RANDOM % 2))]}
        node_kill "$F"
        sleep_ms $((RANDOM % 1500))
        node_start "$F"
    fi
    if ! wait_until 40 all_ready n1 n2 n3; then
        not_ready=$((not_ready + 1))
        echo "  round $r: not every node ready 40 s after the restarts"
        show_logs n1 n2 n3
    fi
    echo "  round $r: killed leader $L (new leader ${NL:-none} after $ms ms), then follower ${F:-none}"
    sleep_ms $((500 + RANDOM % 1000)) # some writes through the healed cluster
done

touch "$CL/stop"
for _ in $(seq 1 300); do kill -0 "$CPID" 2>/dev/null || break; sleep 0.1; done
kill -9 "$CPID" 2>/dev/null
wait "$CPID" 2>/dev/null
cat "$CL/out"

check "chaos: no node died on its own (${unexpected[*]:-none})" [ ${#unexpected[@]} = 0 ]
check "chaos: a new leader after every kill ($no_leader rounds without)" [ "$no_leader" = 0 ]
check "chaos: every node ready after every round ($not_ready rounds not)" [ "$not_ready" = 0 ]
echo "  failover times (ms, kill -9 of the leader to a leader named by both others): ${failover_ms[*]:-}"
check "chaos: all three ready (/readyz?sync) at the end" wait_until 60 all_ready n1 n2 n3
# and caught up by /status too, so that the verdict below does not rest on ?sync alone
check "chaos: all three applied the leader's commit index" wait_until 60 caught_up n1 n2 n3
check "chaos: every acknowledged write present with its last acknowledged value on every node; strong reads never went back in time" \
    kv_tool verify "$CL" "$ADDRS"
check "chaos: SIGTERM all -> exit 0 (ASan clean)" node_term_all n1 n2 n3
check "chaos: no sanitizer report in any node log" logs_clean
finish
