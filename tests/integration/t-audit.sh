# The audit trail: a path with ~ in a directory the agent makes 0700, one listing event per
# ssh connection, and `p11guard audit` reading it back as a table or JSON lines, filtered by
# decision, key, destination and time, skipping (and naming) lines that are not its own.
. "$(dirname "$0")/lib.sh"

make_token t1 p256 ed25519
make_askpass "$PIN"
chmod 755 "$T"
start_sshd A
known_hosts_line A a.test > "$T/policy_known_hosts"
export HOME="$T/home"
mkdir -m 700 "$HOME"
write_config "$T/config.yaml" t1
cat >> "$T/config.yaml" <<CFG
audit:
  file: ~/state/p11guard/audit.log
policy:
  known_hosts: [ "$T/policy_known_hosts" ]
  rules:
    - action: allow
      keys: "pkcs11:object=p256"
      to: a.test
  default: deny
CFG
AUDIT=$HOME/state/p11guard/audit.log
start_agent --config "$T/config.yaml"
[ -f "$AUDIT" ] || fail "no audit file at $AUDIT (~ not expanded?)"
[ "$(stat -c %a "$HOME/state") $(stat -c %a "$HOME/state/p11guard")" = "700 700" ] ||
	fail "audit directories not made 0700: $(stat -c %a "$HOME/state" "$HOME/state/p11guard")"
ok "audit: ~/ expanded, missing directories made 0700"

pubkeys_from_tokens "$T/config.yaml"
cat "$T/pub/p256.pub" "$T/pub/ed25519.pub" >> "$T/A.keys"
ssh_run "$A_PORT" "$T/pub/p256.pub" root@127.0.0.1 true || fail "the allowed login"
ssh_run "$A_PORT" "$T/pub/ed25519.pub" root@127.0.0.1 true 2>/dev/null && fail "a hidden key logged in"
# (the table below counts these three events: two hides and one signature)
# Each ssh run lists the keys once: one "hide" event for ed25519 per connection.
python3 - "$AUDIT" <<'PY' || fail "listing events: $(cat "$AUDIT")"
import collections, json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
hides = collections.Counter(e["pid"] for e in events if e["event"] == "list")
assert len(hides) == 2 and set(hides.values()) == {1}, hides
assert sum(e["event"] == "sign" and e["decision"] == "allow" for e in events) == 1, events
PY
# A client that lists twice on one connection makes one event (OpenSSH's ssh lists once).
pid=$(python3 - "$SSH_AUTH_SOCK" <<'PY'
import os, socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
for _ in range(2):
    s.sendall(struct.pack(">IB", 1, 11))        # SSH_AGENTC_REQUEST_IDENTITIES
    n = struct.unpack(">I", s.recv(4))[0]
    data = b""
    while len(data) < n:
        data += s.recv(n - len(data))
    assert data[0] == 12, data[:1]
print(os.getpid())
PY
) || fail "listing twice on one connection"
[ "$(grep -c "\"event\":\"list\".*\"pid\":$pid," "$AUDIT")" = 1 ] ||
	fail "two listings on one connection: $(grep "\"pid\":$pid," "$AUDIT")"
ok "one listing event per connection: per ssh run, and when a client lists twice"

"$CLI" audit --config "$T/config.yaml" > "$T/table" || fail "p11guard audit: $(cat "$T/table")"
head -1 "$T/table" | grep -q "^TIME  *DECISION EVENT KEY  *DESTINATION  *USER  *RULE  *REASON$" ||
	fail "no table header: $(head -1 "$T/table")"
[ "$(grep -c " hide  *list  *ed25519 (t1 " "$T/table")" = 3 ] &&
	[ "$(grep -c " allow  *sign  *p256 (t1 #[^ ]*  *a.test  *root " "$T/table")" = 1 ] ||
	fail "table rows: $(cat "$T/table")"
count() { "$CLI" audit --file "$AUDIT" "$@" | tail -n +2 | grep -vc "no matching events" || true; }
[ "$(count --decision allow)" = 1 ] || fail "--decision allow: $(count --decision allow)"
[ "$(count --key ed25519)" = 3 ] || fail "--key ed25519"
[ "$(count --to a.test --decision hide)" = 2 ] || fail "--to a.test --decision hide"
[ "$(count --since 1h)" = 4 ] || fail "--since 1h"
[ "$(count --until 2000-01-01)" = 0 ] || fail "--until 2000-01-01"
[ "$(count --since "$(date -d '1 hour ago' '+%Y-%m-%dT%H:%M')")" = 4 ] || fail "--since a local time"
"$CLI" audit --file "$AUDIT" --json --decision allow > "$T/json" || fail "--json"
python3 -c 'import json, sys; rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 1 and rows[0]["decision"] == "allow", rows' "$T/json" || fail "--json: $(cat "$T/json")"
ok "p11guard audit: a table; --decision, --key, --to, --since, --until and --json filter"

printf 'not json\n{"time":"x",\n' >> "$AUDIT"
"$CLI" audit --file "$AUDIT" > "$T/table2" 2> "$T/err2" || fail "audit with bad lines failed"
[ "$(grep -c "not an audit line, skipped" "$T/err2")" = 2 ] || fail "bad lines: $(cat "$T/err2")"
grep -q "audit.log:$(($(wc -l < "$AUDIT") - 1)): not an audit line" "$T/err2" ||
	fail "the bad line is not named by number: $(cat "$T/err2")"
[ "$(tail -n +2 "$T/table2" | wc -l)" = 4 ] || fail "good lines lost: $(cat "$T/table2")"
rc=0; "$CLI" audit --file "$AUDIT" --since yesterday-ish > /dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "a bad --since is not a usage error ($rc)"
rc=0; "$CLI" audit --file "$T/no-such-file" > /dev/null 2> "$T/err3" || rc=$?
[ "$rc" = 1 ] && grep -q "no-such-file: No such file" "$T/err3" || fail "a missing file: $(cat "$T/err3")"
ok "malformed lines are skipped and named; bad arguments and missing files say so"
