# The non-strict path (design sections 4 and 5), through the switch that only test builds
# have (--enable-test-hooks): the agent omits kex-strict-c, so the first key exchange may
# use AES-GCM only, and the handoff carries sequence numbers that run on instead of
# restarting. A server that offers only chacha20-poly1305 is then refused at the first key
# exchange; the handoff re-key itself may still choose it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guarded-lib.sh"

if ! grep -q "define P11GUARD_TEST_HOOKS 1" "$top_builddir/build-config.h"; then
	echo "SKIP: built without --enable-test-hooks"
	exit 77
fi
DELEGATE=$top_builddir/p11guard-ssh
export P11GUARD_TEST_OMIT_STRICT_KEX=1
SSHD_EXTRA="DisableForwarding yes" start_sshd T
SSHD_EXTRA="DisableForwarding yes
Ciphers chacha20-poly1305@openssh.com" start_sshd C
GUARDED_TARGETS="T C"
GUARDED_RULE_EXTRA="      mode: handoff"
guarded_setup '[ "echo guarded; echo err >&2; exit 3", cat ]'
head -c 3000000 /dev/urandom > "$T/input"

rc=0
from_i "$DELEGATE -p $T_PORT root@127.0.0.1 'echo guarded; echo err >&2; exit 3'" > "$T/out" \
	2> "$T/err" || rc=$?
[ "$rc" = 3 ] && [ "$(cat "$T/out")" = guarded ] ||
	fail "non-strict handoff: exit $rc, output $(cat "$T/out"), errors $(cat "$T/err")"
from_i "$DELEGATE -o RekeyLimit=64K -p $T_PORT root@127.0.0.1 cat" < "$T/input" > "$T/out" ||
	fail "non-strict handoff: cat failed"
cmp -s "$T/input" "$T/out" || fail "non-strict handoff: 3 MB through cat came back different"
python3 - "$T/audit.log" <<'PY' || fail "the audit does not show two non-strict handoffs"
import json, sys
ends = [e for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "end"]
ok = [e for e in ends if e.get("mode") == "handoff" and e.get("strict_kex") == "no" and
      "chacha20-poly1305" in e.get("outcome", "")]
sys.exit(0 if len(ok) == 2 else 1)
PY
ok "no strict KEX: AES-GCM first, a chacha20-poly1305 handoff, sequence numbers carried on through re-keys every 64 KiB (3 MB through cat)"

rc=0
from_i "$DELEGATE -p $C_PORT root@127.0.0.1 'echo guarded; echo err >&2; exit 3'" > "$T/out" \
	2> "$T/err" || rc=$?
[ "$rc" = 255 ] && grep -q "no cipher in common with the server" "$T/err" ||
	fail "a chacha-only server without strict KEX: exit $rc, $(cat "$T/err")"
grep -q "Accepted publickey" "$T/sshd-C.log" && fail "the chacha-only server saw a login"
ok "without strict KEX a server offering only chacha20-poly1305 is refused at the first key exchange"
