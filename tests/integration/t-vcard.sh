# The smartcard path with real parts: a virtual CAC card (libcacard, driven by our glue
# tests/vcard/vcard-glue) in a real pcscd through the vpcd reader driver, used through
# OpenSC's PKCS#11 module. The card is pulled and reinserted with no ssh-add and no restart.
# pcscd runs in its own mount and network namespaces: its socket and pid file stay in $T,
# and vpcd, which listens on every address it has, has only loopback.
. "$(dirname "$0")/lib.sh"

GLUE=$top_builddir/tests/vcard/vcard-glue
VPCD=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
OPENSC=$(ls /usr/lib/*/pkcs11/opensc-pkcs11.so 2>/dev/null | head -n1)
[ -x "$GLUE" ] || fail "$GLUE was not built (libcacard-dev missing? see scripts/install-deps)"
[ -f "$VPCD" ] || fail "vpcd is not installed (package vsmartcard-vpcd)"
[ -n "$OPENSC" ] || fail "OpenSC's PKCS#11 module is not installed"
VPCD_PORT=35963         # inside pcscd's own network namespace

# The card's keys: three RSA-2048 keys with self-signed certificates in an NSS database.
mkdir -p "$T/nssdb" "$T/pcsc-run" "$T/readers"
certutil -N -d "sql:$T/nssdb" --empty-password
head -c 64 /dev/urandom > "$T/noise"
for i in 1 2 3; do
	certutil -S -s "CN=p11guard vcard key $i" -n "cert$i" -x -t "CT,C,C" -k rsa -g 2048 \
		-v 12 -d "sql:$T/nssdb" -z "$T/noise" >/dev/null 2>&1 || fail "certutil cert$i"
done

cat > "$T/readers/vpcd" <<CONF
FRIENDLYNAME "p11guard virtual reader"
DEVICENAME   /dev/null:$VPCD_PORT
LIBPATH      $VPCD
CHANNELID    $VPCD_PORT
CONF
mkdir -p /run/pcscd
unshare -m -n sh -c "mount --bind '$T/pcsc-run' /run/pcscd && ip link set lo up &&
	exec pcscd -f -c '$T/readers'" > "$T/pcscd.log" 2>&1 &
PCSCD_PID=$!
PIDS="$PIDS $PCSCD_PID"
export PCSCLITE_CSOCK_NAME=$T/pcsc-run/pcscd.comm
wait_for 10 test -S "$PCSCLITE_CSOCK_NAME" || fail "pcscd did not start"

card_in() {
	nsenter -t "$PCSCD_PID" -n "$GLUE" "$T/nssdb" "$VPCD_PORT" >> "$T/glue.log" 2>&1 &
	GLUE_PID=$!
	echo "$GLUE_PID" > "$T/glue.pid"
	PIDS="$PIDS $GLUE_PID"
	wait_for 10 grep -q "card inserted" "$T/glue.log" || fail "the virtual card did not start"
}
card_out() { kill "$(cat "$T/glue.pid")" 2>/dev/null || true; }

# The askpass gives the PIN and answers confirmations; with $T/pull-on-confirm it pulls the
# card first, so that the signature it allows meets a token that is gone.
cat > "$T/askpass" <<ASK
#!/bin/sh
if [ "\${SSH_ASKPASS_PROMPT:-}" = confirm ]; then
	if [ -f "$T/pull-on-confirm" ]; then
		kill \$(cat "$T/glue.pid"); rm "$T/pull-on-confirm"; sleep 0.5
	fi
	exit 0
fi
echo x >> "$T/askpass.count"
echo 77777777
ASK
chmod +x "$T/askpass"
export SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0

card_in
cat > "$T/config.yaml" <<CFG
tokens:
  - name: card
    module: $OPENSC
policy:
  rules:
    - action: allow
      keys: card
      confirm: always
  default: deny
CFG
chmod 755 "$T"
start_sshd A
start_agent --config "$T/config.yaml"
has_card_key() { ssh-add -l 2>/dev/null | grep -q "CAC ID Certificate"; }
wait_for 10 has_card_key || fail "the card's key is not listed"
ssh-add -L | grep "CAC ID Certificate" | cut -d' ' -f1,2 > "$T/card.pub"
cat "$T/card.pub" >> "$T/A.keys"
ok "ssh-add -l lists the card's keys ($(ssh-add -l | grep -c CAC) keys)"

ssh_run "$A_PORT" "$T/card.pub" root@127.0.0.1 true || fail "ssh login with the card"
ok "ssh logs in with the card's key"

# Regression: the glue once reset the card on each of pcscd's presence polls (every 400 ms),
# so a poll between two APDUs of one signature lost the reply and the sign failed now and
# then. Signatures in a row over several polls must all succeed.
echo data > "$T/data"
start=$(date +%s%N)
for i in $(seq 1 250); do
	rm -f "$T/data.sig"
	ssh-keygen -q -Y sign -f "$T/card.pub" -n p11guard-test "$T/data" 2>"$T/sign.err" ||
		fail "signature $i of 250 on the card failed: $(cat "$T/sign.err")"
done
echo "250 signatures in $((($(date +%s%N) - start) / 1000000)) ms"
ok "250 signatures in a row on the card (several polls), none lost to a presence poll"

start=$(date +%s%N)
card_out
wait_for 3 sh -c '! ssh-add -l 2>/dev/null | grep -q "CAC ID Certificate"' ||
	fail "the card's key is still listed 3 s after the card was pulled"
echo "removal seen in $((($(date +%s%N) - start) / 1000000)) ms"
ok "card pulled: its keys leave ssh-add -l within 3 s"

start=$(date +%s%N)
card_in
wait_for 3 has_card_key || fail "the card's key is not back 3 s after reinsertion"
echo "insertion seen in $((($(date +%s%N) - start) / 1000000)) ms"
ssh_run "$A_PORT" "$T/card.pub" root@127.0.0.1 true || fail "ssh login after reinsertion"
ok "card reinserted: keys back within 3 s, ssh logs in again"

# A signature allowed while the card is being pulled fails with "token removed".
touch "$T/pull-on-confirm"
ssh_run "$A_PORT" "$T/card.pub" root@127.0.0.1 true 2>/dev/null &&
	fail "a login signed with a pulled card"
grep -q "TokenRemoved: .*token removed" "$T/agent.log" ||
	fail "the signature on a pulled card was not refused as \"token removed\""
ok "a signature racing the removal fails with \"token removed\""

card_in
wait_for 3 has_card_key || fail "the card's key is not back after the second reinsertion"
ssh_run "$A_PORT" "$T/card.pub" root@127.0.0.1 true || fail "ssh login after the second reinsertion"
grep -q "added provider\|ssh-add" "$T/agent.log" && fail "something was added by ssh-add"
[ "$(grep -c "policy in force" "$T/agent.log")" = 1 ] || fail "the agent restarted"
ok "no ssh-add and no restart: the same agent served every insertion"
