#!/usr/bin/env bash
# Black-box runs of the storage failures in RELIABILITY.md ("Storage health") against the
# reference server on SQLite: a disk that fills up (a tmpfs), the database file deleted
# while the server runs, and a disk frozen for 50 s (fsfreeze on a loop-mounted ext4).
# Needs root (mounts, fsfreeze), curl, openssl and jq; the tests in
# `adapters/sqlite/tests/health.rs` and `examples/server/tests/e2e.rs` check the same
# without root.
#
#   cargo build -p callhook-server && sudo tools/blackbox/storage_health.sh [full|deleted|frozen]...
#
# Each webhook is a signed WhatsApp status with its own message id (one event). Prints
# what each webhook and /healthz answered, and checks that every acknowledged webhook's
# event is stored once.
set -euo pipefail

BIN=${CALLHOOK_SERVER:-${CARGO_TARGET_DIR:-target}/debug/callhook-server}
PORT=${PORT:-39517}
BASE="http://127.0.0.1:$PORT"
SECRET=blackbox-secret
WORK=$(mktemp -d /tmp/callhook-blackbox.XXXXXX)
MNT="$WORK/mnt"
mkdir -p "$MNT"
SERVER=""
FAILED=0

cleanup() {
    if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    fsfreeze -u "$MNT" 2>/dev/null || true
    umount "$MNT" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

start() { # database file
    WHATSAPP_APP_SECRET=$SECRET CALLHOOK_ADMIN_TOKEN=admin CALLHOOK_LISTEN=127.0.0.1:$PORT \
        DATABASE_URL="$1" CALLHOOK_RECORDINGS_DIR="$WORK/recordings" RUST_LOG=warn \
        "$BIN" >"$WORK/server.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/livez")" = 200 ] && return
        sleep 0.1
    done
    echo "the server did not start"; cat "$WORK/server.log"; exit 1
}

stop() {
    kill "$SERVER"; wait "$SERVER" || true; SERVER=""
}

# Sends the webhook of message `$1`; prints "status seconds".
send() {
    local body sig
    body='{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"1"},"statuses":[{"id":"'$1'","status":"delivered","timestamp":"1767225600","recipient_id":"1"}]}}]}]}'
    sig=$(printf %s "$body" | openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/^.* //')
    curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 120 -H 'content-type: application/json' \
        -H "x-hub-signature-256: sha256=$sig" --data-binary "$body" "$BASE/webhooks/whatsapp"
}

# Prints "status seconds body" of /healthz.
health() {
    local out
    out=$(curl -s --max-time 30 -w '\n%{http_code} %{time_total}' "$BASE/healthz" || echo "
timeout")
    echo "$(tail -n1 <<<"$out") $(head -n1 <<<"$out")"
}

# Sends messages `$1-0` .. `$1-($2 - 1)`; counts the statuses and records the acknowledged ids.
burst() {
    local ok=0 refused=0 other=0 slowest=0 line status seconds
    for n in $(seq 0 $(($2 - 1))); do
        line=$(send "$1-$n"); status=${line% *}; seconds=${line#* }
        case $status in
            200) ok=$((ok + 1)); echo "$1-$n" >>"$WORK/acknowledged" ;;
            503) refused=$((refused + 1)) ;;
            *) other=$((other + 1)) ;;
        esac
        slowest=$(awk -v a="$slowest" -v b="$seconds" 'BEGIN { print (b > a) ? b : a }')
    done
    echo "  $2 webhooks ($1-*): $ok x 200, $refused x 503, $other other; slowest ${slowest} s"
}

# Checks that every acknowledged message is stored exactly once.
check_stored() {
    local missing=0 twice=0 count
    [ -f "$WORK/acknowledged" ] || return 0
    while read -r wamid; do
        count=$(curl -s -H 'authorization: Bearer admin' "$BASE/api/events?q=$wamid&limit=100" |
            jq --arg id "$wamid" '[.events[] | select(.subject == $id)] | length')
        [ "$count" = 0 ] && missing=$((missing + 1))
        [ "$count" -gt 1 ] && twice=$((twice + 1))
    done <"$WORK/acknowledged"
    echo "  acknowledged: $(wc -l <"$WORK/acknowledged"), missing: $missing, stored more than once: $twice"
    [ "$missing" = 0 ] && [ "$twice" = 0 ] || FAILED=1
    rm "$WORK/acknowledged"
}

full() {
    echo "== disk full: a 160 MiB tmpfs filled by another file"
    mount -t tmpfs -o size=160m tmpfs "$MNT"
    start "$MNT/callhook.sqlite"
    echo "  /healthz: $(health)"
    burst full-a 20
    dd if=/dev/zero of="$MNT/filler" bs=1M count=110 status=none
    echo "  110 MiB written beside it (free: $(df --output=avail -h "$MNT" | tail -n1 | tr -d ' ')): /healthz: $(health)"
    burst full-b 20
    dd if=/dev/zero of="$MNT/filler2" bs=1M status=none 2>/dev/null || true
    echo "  the disk filled up (free: $(df --output=avail -h "$MNT" | tail -n1 | tr -d ' ')): /healthz: $(health)"
    burst full-c 20
    echo "  /healthz: $(health)"
    rm "$MNT/filler" "$MNT/filler2"
    echo "  fillers removed: /healthz: $(health)"
    echo "  /healthz again: $(health)"
    burst full-c 20
    check_stored
    stop; umount "$MNT"
}

deleted() {
    echo "== the database file deleted while the server runs"
    start "$WORK/callhook.sqlite"
    burst deleted-a 10
    check_stored
    rm "$WORK/callhook.sqlite"
    burst deleted-b 30
    echo "  /healthz: $(health)"
    echo "  log: $(grep -c 'ERROR.*SQLite store: the database file was deleted or moved away' "$WORK/server.log") ERROR from the store (the transition), $(grep -c 'ERROR.*could not store the delivery' "$WORK/server.log") from the receiver (one per refused webhook)"
    stop
    rm -f "$WORK/callhook.sqlite-wal" "$WORK/callhook.sqlite-shm" "$WORK/acknowledged"
}

frozen() {
    echo "== the disk frozen for 50 s (fsfreeze on a loop-mounted ext4)"
    truncate -s 256M "$WORK/disk.img"
    mkfs.ext4 -q "$WORK/disk.img"
    mount -o loop "$WORK/disk.img" "$MNT"
    start "$MNT/callhook.sqlite"
    burst frozen-a 10
    fsfreeze -f "$MNT"
    local started=$SECONDS
    : >"$WORK/during"
    for n in $(seq 0 100); do
        echo "    $((SECONDS - started)) s: webhook frozen-b-$n: $(send "frozen-b-$n"); /healthz: $(health | cut -c1-120)" >>"$WORK/during"
        sleep 1
        [ $((SECONDS - started)) -ge 50 ] && break
    done
    sleep $((50 - (SECONDS - started) > 0 ? 50 - (SECONDS - started) : 0))
    fsfreeze -u "$MNT"
    cat "$WORK/during"
    awk '{ split($0, a, ": "); print a[3] }' "$WORK/during" | cut -d' ' -f1 | sort | uniq -c | sed 's/^/  webhooks while frozen: /'
    local probes=1
    until [ "$(health | cut -d' ' -f1)" = 200 ]; do probes=$((probes + 1)); sleep 0.1; done
    echo "  thawed: /healthz 200 at probe $probes"
    # The provider retries every webhook refused while frozen.
    burst frozen-b "$(wc -l <"$WORK/during")"
    check_stored
    stop; umount "$MNT"
}

[ -x "$BIN" ] || { echo "build it first: cargo build -p callhook-server (or set CALLHOOK_SERVER)"; exit 1; }
for scenario in "${@:-full deleted frozen}"; do
    for one in $scenario; do "$one"; done
done
exit "$FAILED"
