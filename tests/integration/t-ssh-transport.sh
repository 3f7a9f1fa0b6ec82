# The SSH-2 client transport of guarded execution (src/ssh) against real sshds on loopback,
# driven by tests/ssh/ssh-exec over TCP and signing with token keys through the agent: each
# key exchange, cipher and host key type, strict and non-strict KEX, re-keys started by
# either side, output beyond the window, and the refusals (an unknown host key before any
# authentication, a key the server does not take).
. "$(dirname "$0")/lib.sh"

EXEC=$top_builddir/tests/ssh/ssh-exec
make_token t1 ed25519 p256 rsa2048
make_askpass "$PIN"
chmod 755 "$T"
write_config "$T/config.yaml" t1
start_agent --config "$T/config.yaml"
pubkeys_from_tokens "$T/config.yaml"

# sshd NAME [sshd_config lines...]: a server trusting the token's keys; $T/NAME.hostkeys
# holds its host key as the transport's trusted list.
sshd() {
	local name=$1
	shift
	SSHD_EXTRA=$(printf '%s\n' "$@") start_sshd "$name"
	cat "$T"/pub/*.pub >> "$T/$name.keys"
	cut -d' ' -f1,2 "$T/sshd-$name/hostkey.pub" > "$T/$name.hostkeys"
}
# run NAME KEYS [ssh-exec options] -- CMD: KEYS is key names, comma-separated; stdin from
# $T/stdin when it exists; stdout to $T/out, stderr to $T/err; prints the exit status.
run() {
	local name=$1 keys="" k opts="" port rc=0 in=/dev/null
	for k in $(echo "$2" | tr ',' ' '); do keys="$keys${keys:+,}$T/pub/$k.pub"; done
	shift 2
	while [ "$1" != "--" ]; do opts="$opts $1"; shift; done
	shift
	port=$(eval echo "\$${name}_PORT")
	[ -f "$T/stdin" ] && in=$T/stdin
	# shellcheck disable=SC2086
	"$EXEC" $opts "$port" root "$T/$name.hostkeys" "$keys" "$1" < "$in" > "$T/out" \
		2> "$T/err" || rc=$?
	echo "$rc"
}
expect_line() { grep -q "$1" "$T/err" || fail "$2: $(cat "$T/err")"; }

sshd A
for key in ed25519 p256 rsa2048; do
	[ "$(run A "$key" -- 'echo out; echo err >&2; exit 7')" = 7 ] ||
		fail "$key: not exit 7: $(cat "$T/err")"
	[ "$(cat "$T/out")" = out ] && grep -qx err "$T/err" || fail "$key: output $(cat "$T/out")"
done
expect_line "kex curve25519-sha256, host key ssh-ed25519, cipher chacha20-poly1305@openssh.com, strict 1" \
	"default sshd"
grep -c "Accepted publickey for root" "$T/sshd-A.log" | grep -qx 3 || fail "sshd saw no 3 logins"
ok "default sshd: curve25519, strict KEX, chacha20-poly1305; ed25519, ECDSA and RSA user keys; stdout, stderr, exit status"

for c in aes256-gcm@openssh.com aes128-gcm@openssh.com; do
	sshd "G${c%%-*}" "Ciphers $c"
	[ "$(run "G${c%%-*}" p256 -- true)" = 0 ] || fail "$c: $(cat "$T/err")"
	expect_line "cipher $c, strict 1" "$c"
done
sshd E "KexAlgorithms ecdh-sha2-nistp256"
[ "$(run E ed25519 -- true)" = 0 ] || fail "ecdh-sha2-nistp256: $(cat "$T/err")"
expect_line "kex ecdh-sha2-nistp256" "ecdh-sha2-nistp256"
ok "AES-256-GCM and AES-128-GCM; ecdh-sha2-nistp256"

for args in "-t ecdsa -b 256" "-t ecdsa -b 384" "-t ecdsa -b 521" "-t rsa -b 3072"; do
	hk=H$(echo "$args" | tr -dc '0-9')
	SSHD_HOSTKEY_ARGS=$args sshd "$hk"
	[ "$(run "$hk" ed25519 -- true)" = 0 ] || fail "host key $args: $(cat "$T/err")"
done
[ "$(run H256 ed25519 -- true)" = 0 ] && expect_line "host key ecdsa-sha2-nistp256" "P-256 host key"
[ "$(run H3072 ed25519 -- true)" = 0 ] && expect_line "host key rsa-sha2-512" "RSA host key"
ok "host keys ECDSA P-256/384/521 and RSA (rsa-sha2-512) verified"

[ "$(run A p256 -n -- true)" = 0 ] || fail "non-strict: $(cat "$T/err")"
expect_line "cipher aes256-gcm@openssh.com, strict 0" "without strict KEX, AES-GCM only"
ok "without strict KEX: AES-GCM only"

# Several keys: each is offered without a signature first, and only the one the server
# takes signs. The stranger is in the agent but in no authorized_keys.
ssh-keygen -q -t ed25519 -N '' -C stranger -f "$T/stranger"
ssh-add "$T/stranger" 2>/dev/null || fail "adding a key the server does not know"
cp "$T/stranger.pub" "$T/pub/stranger.pub"
[ "$(run A stranger,p256 -- true)" = 0 ] || fail "stranger then p256: $(cat "$T/err")"
expect_line "signed with key 2$" "the second key"
! grep -q "signed, yet another logged in" "$T/err" || fail "the stranger signed: $(cat "$T/err")"
ok "candidate keys are queried first (PK_OK): only the accepted one signs"

# Input, a terminal, the environment, subsystems.
printf 'line one\nline two\n' > "$T/stdin"
[ "$(run A ed25519 -- 'wc -l')" = 0 ] && [ "$(tr -d ' ' < "$T/out")" = 2 ] ||
	fail "stdin: $(cat "$T/out") $(cat "$T/err")"
rm "$T/stdin"
[ "$(run A ed25519 -- 'tty')" = 1 ] && grep -q "not a tty" "$T/out" || fail "no pty: $(cat "$T/out")"
[ "$(run A ed25519 -t -- 'tty')" = 0 ] && grep -q "^/dev/pts/" "$T/out" || fail "pty: $(cat "$T/out")"
sshd V "AcceptEnv LANG LC_*" "Subsystem hello /bin/echo hello from a subsystem"
[ "$(run V ed25519 -e LANG=C.UTF-8 -e GIT_PROTOCOL=version=2 -- 'echo "[$LANG][$GIT_PROTOCOL]"')" = 0 ] ||
	fail "env: $(cat "$T/err")"
[ "$(cat "$T/out")" = "[C.UTF-8][]" ] || fail "env passed: $(cat "$T/out")"
expect_line "progress: the server did not take GIT_PROTOCOL (its AcceptEnv)" "env refusal reported"
[ "$(run V ed25519 -s -- hello)" = 0 ] && grep -qx "hello from a subsystem" "$T/out" ||
	fail "subsystem: $(cat "$T/out") $(cat "$T/err")"
[ "$(run V ed25519 -s -- nosuch)" = 255 ] || fail "an unknown subsystem ran"
expect_line "the server refused to run the subsystem" "unknown subsystem"
ok "stdin to the command; a pty on request; env sent, refusals reported; subsystems"

# Re-keys: sshd after 64 KiB, and our own after 100 000 bytes; 4 MB of output crosses
# both, and the window (2 MiB) twice.
sshd R "RekeyLimit 64K"
[ "$(run R ed25519 -- 'head -c 4000000 /dev/zero')" = 0 ] || fail "server re-keys: $(cat "$T/err")"
[ "$(wc -c < "$T/out")" = 4000000 ] || fail "4 MB through server re-keys: $(wc -c < "$T/out") bytes"
exchanges() { sed -n 's/.* \([0-9]*\) exchange(s).*/\1/p' "$T/err"; }
[ "$(exchanges)" -ge 3 ] || fail "the server re-keyed $(($(exchanges) - 1)) time(s) over 4 MB"
server_rekeys=$(($(exchanges) - 1))
# Our own: each re-key lets a whole window (2 MiB) through before the server answers it, and
# the last one may still be running when the command ends (our CLOSE may follow our NEWKEYS
# before the server's is read), so the count of finished ones needs room: 8 MB, at least 2.
[ "$(run A ed25519 -r 100000 -- 'head -c 8000000 /dev/zero')" = 0 ] ||
	fail "client re-keys: $(cat "$T/err")"
[ "$(wc -c < "$T/out")" = 8000000 ] || fail "8 MB through our re-keys: $(wc -c < "$T/out") bytes"
[ "$(exchanges)" -ge 3 ] || fail "we re-keyed $(($(exchanges) - 1)) time(s) over 8 MB"
ok "re-keys by the server (RekeyLimit 64K: $server_rekeys over 4 MB) and by us ($(($(exchanges) - 1)) over 8 MB), the output through the window"

# Refusals.
cut -d' ' -f1,2 "$T/sshd-E/hostkey.pub" > "$T/wrong.hostkeys"
before=$(grep -c "Accepted\|Postponed" "$T/sshd-A.log")
rc=0; "$EXEC" "$A_PORT" root "$T/wrong.hostkeys" "$T/pub/p256.pub" true 2> "$T/err" || rc=$?
[ "$rc" = 255 ] || fail "an unknown host key: exit $rc"
expect_line "the server's host key SHA256:.* is not the one known for it" "unknown host key"
[ "$(grep -c "Accepted\|Postponed" "$T/sshd-A.log")" = "$before" ] ||
	fail "authentication was tried with a host key not trusted"
[ "$(run A stranger -- true)" = 255 ] || fail "a key the server does not take"
expect_line "the server did not accept the key (it would take: publickey)" "refused key"
ok "an unknown host key fails before authentication; a refused key says what the server takes"

# Relay mode's engine (guard-relay.c): the same sessions with every byte, both ways, passed
# as frames encoded and decoded again, the driver playing the delegate.
[ "$(run A ed25519 -f -- 'echo out; echo err >&2; exit 3')" = 3 ] ||
	fail "framed: not exit 3: $(cat "$T/err")"
[ "$(cat "$T/out")" = out ] && grep -qx err "$T/err" || fail "framed output: $(cat "$T/out")"
printf 'a\nb\nc\n' > "$T/stdin"
[ "$(run A p256 -f -- 'wc -l')" = 0 ] && [ "$(tr -d ' ' < "$T/out")" = 3 ] ||
	fail "framed stdin: $(cat "$T/out") $(cat "$T/err")"
rm "$T/stdin"
[ "$(run R ed25519 -f -- 'head -c 4000000 /dev/zero')" = 0 ] ||
	fail "framed, server re-keys: $(cat "$T/err")"
[ "$(wc -c < "$T/out")" = 4000000 ] || fail "framed 4 MB: $(wc -c < "$T/out") bytes"
expect_line "relayed [0-9]* bytes from the server" "byte counts"
[ "$(run A stranger -f -- true)" = 255 ] || fail "framed: a refused key"
expect_line "aborted: the server did not accept the key" "framed refusal"
ok "relay mode's engine: output, stderr, exit status, stdin, 4 MB with re-keys, and a refusal as ABORT"

