# libsshagent as others use it: installed with `make install DESTDIR=...`, its two example
# agents built out of tree through `pkg-config sshagent`, then used by stock ssh-add and ssh.
. "$(dirname "$0")/lib.sh"

root=$T/root
make -C "$top_builddir" install DESTDIR="$root" > "$T/install.log" 2>&1 ||
	fail "make install DESTDIR: $(tail -n 20 "$T/install.log")"
lib=$(find "$root" -name libsshagent.so.0 | head -n 1)
pc=$(find "$root" -name sshagent.pc | head -n 1)
[ -n "$lib" ] && [ -n "$pc" ] && [ -n "$(find "$root" -name sshagent.h)" ] ||
	fail "libsshagent.so.0, sshagent.pc or sshagent.h was not installed"
exported=$(nm -D --defined-only "$lib" | awk '{ print $3 }')
[ -n "$exported" ] || fail "libsshagent.so.0 exports nothing"
if printf '%s\n' "$exported" | grep -v '^sshagent_'; then
	fail "libsshagent.so.0 exports symbols beyond sshagent_*"
fi
ok "installed: libsshagent.so.0 ($(printf '%s\n' "$exported" | wc -l) symbols, all sshagent_*), sshagent.h, sshagent.pc"

export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$root
export LD_LIBRARY_PATH=$(dirname "$lib")
cc=$(sed -n 's/^CC = //p' "$top_builddir/Makefile")
san=$(sed -n 's/^SANITIZER_CFLAGS = //p' "$top_builddir/Makefile")
for ex in sshagent-dump sshagent-filekey; do
	# shellcheck disable=SC2046,SC2086
	$cc $san -Wall -Wextra -Werror -o "$T/$ex" "$top_srcdir/src/examples/$ex.c" \
		$(pkg-config --cflags --libs sshagent libcrypto) > "$T/cc-$ex.log" 2>&1 ||
		fail "building $ex against the installed library: $(cat "$T/cc-$ex.log")"
	ldd "$T/$ex" | grep -q "$root" || fail "$ex does not use the installed libsshagent"
done
ok "both examples build out of tree with pkg-config --cflags --libs sshagent"

make_token t1 p256
make_askpass "$PIN"
write_config "$T/config.yaml" t1
start_agent --config "$T/config.yaml"
UPSTREAM=$SSH_AUTH_SOCK
split_pubkeys
start_sshd A
cat "$T/pub/p256.pub" >> "$T/A.keys"

"$T/sshagent-dump" "$T/dump.sock" 2> "$T/dump.log" &
PIDS="$PIDS $!"
wait_for 10 test -S "$T/dump.sock" || fail "sshagent-dump did not start"
ssh-add -l > "$T/upstream.list"
SSH_AUTH_SOCK=$T/dump.sock ssh-add -l > "$T/proxied.list" || fail "ssh-add -l through the dump"
cmp -s "$T/upstream.list" "$T/proxied.list" ||
	fail "ssh-add -l differs: $(cat "$T/upstream.list") / $(cat "$T/proxied.list")"
SSH_AUTH_SOCK=$T/dump.sock ssh_run "$A_PORT" "$T/pub/p256.pub" root@127.0.0.1 true ||
	fail "ssh through sshagent-dump"
fp=$(ssh-keygen -lf "$T/pub/p256.pub" | cut -d' ' -f2)
for line in "-> REQUEST_IDENTITIES" "<- IDENTITIES_ANSWER: 1 key(s)" \
	"-> session-bind@openssh.com: host key SHA256:" "-> SIGN_REQUEST key $fp" \
	"<- SIGN_RESPONSE: ecdsa-sha2-nistp256 signature"; do
	grep -qF -- "$line" "$T/dump.log" || fail "the dump lacks \"$line\": $(cat "$T/dump.log")"
done
grep -q "bound to host key" "$T/agent.log" || fail "the binding did not reach the upstream agent"
ok "sshagent-dump: ssh-add -l equals the upstream's; ssh logs in; requests and replies decoded"

ssh-keygen -q -t ed25519 -N '' -C "file key" -f "$T/fk"
cat "$T/fk.pub" >> "$T/A.keys"
printf '#!/bin/sh\nexit 0\n' > "$T/yes"; printf '#!/bin/sh\nexit 1\n' > "$T/no"
chmod +x "$T/yes" "$T/no"
filekey() {     # filekey NAME [-c PROGRAM]: serves $T/fk on $T/NAME.sock
	sock=$T/$1.sock; shift
	"$T/sshagent-filekey" "$@" "$sock" "$T/fk" 2>> "$T/filekey.log" &
	PIDS="$PIDS $!"
	wait_for 10 test -S "$sock" || fail "sshagent-filekey did not start"
}
filekey plain
SSH_AUTH_SOCK=$T/plain.sock ssh-add -l | grep -q "file key (ED25519)" || fail "filekey list"
SSH_AUTH_SOCK=$T/plain.sock ssh_run "$A_PORT" "$T/fk.pub" root@127.0.0.1 true ||
	fail "ssh through sshagent-filekey"
filekey allow -c "$T/yes"
SSH_AUTH_SOCK=$T/allow.sock ssh_run "$A_PORT" "$T/fk.pub" root@127.0.0.1 true ||
	fail "ssh through sshagent-filekey -c (allowed)"
filekey deny -c "$T/no"
SSH_AUTH_SOCK=$T/deny.sock ssh_run "$A_PORT" "$T/fk.pub" root@127.0.0.1 true 2>/dev/null &&
	fail "sshagent-filekey -c signed although the program said no"
ok "sshagent-filekey: lists and logs in; with -c the program's exit status decides"
