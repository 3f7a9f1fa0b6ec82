# Guarded execution against target sshds that differ from the default: ecdsa and rsa host
# keys, only aes256-gcm, only ecdh-sha2-nistp256, a re-key every 64 KiB, AcceptEnv. Each
# runs two representative workloads here; `make check-matrix` (GUARDED_MATRIX=1) runs every
# workload on every target.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/guarded-lib.sh"

DELEGATE=$top_builddir/p11guard-ssh
VARIANTS="E R G K X A"
SSHD_HOSTKEY_ARGS="-t ecdsa -b 384" start_sshd E
SSHD_HOSTKEY_ARGS="-t rsa -b 2048" start_sshd R
SSHD_EXTRA="Ciphers aes256-gcm@openssh.com" start_sshd G
SSHD_EXTRA="KexAlgorithms ecdh-sha2-nistp256" start_sshd K
SSHD_EXTRA="RekeyLimit 64K" start_sshd X
SSHD_EXTRA="AcceptEnv LANG LC_*" start_sshd A
GUARDED_TARGETS=$VARIANTS
guarded_setup '[ "echo guarded; echo err >&2; exit 3", cat, "head -c 67108864 /dev/zero",
                 "echo \"$LANG/$LC_TIME\"" ]' '[ LANG ]'
head -c 1000000 /dev/urandom > "$T/input"

# on TARGET COMMAND: p11guard-ssh on the intermediary runs COMMAND on sshd TARGET.
on() { from_i "LANG=C.UTF-8 LC_TIME=C $DELEGATE -p $(eval echo "\$${1}_PORT") root@127.0.0.1 '$2'"; }

# The workloads; each fails the test with the target's name.
w_status() {
	rc=0
	on "$1" "echo guarded; echo err >&2; exit 3" > "$T/out" 2> "$T/err" || rc=$?
	[ "$rc" = 3 ] && [ "$(cat "$T/out")" = guarded ] && grep -qx err "$T/err" ||
		fail "$1: exit $rc, output $(cat "$T/out"), errors $(cat "$T/err")"
}
w_stdin() {
	on "$1" cat < "$T/input" > "$T/out" || fail "$1: cat: $(cat "$T/out")"
	cmp -s "$T/input" "$T/out" || fail "$1: 1 MB through cat came back different"
}
w_64m() {
	n=$(from_i "$DELEGATE -p $(eval echo "\$${1}_PORT") root@127.0.0.1 'head -c 67108864 /dev/zero' | wc -c") ||
		fail "$1: 64 MiB"
	[ "$n" = 67108864 ] || fail "$1: 64 MiB of output gave $n bytes"
}
# LANG is listed by the rule, LC_TIME is not (dropped by the agent); a server without
# AcceptEnv refuses LANG and the session goes on.
w_env() {
	want=/
	[ "$1" = A ] && want=C.UTF-8/
	out=$(on "$1" 'echo "$LANG/$LC_TIME"') || fail "$1: env: $out"
	[ "$out" = "$want" ] || fail "$1: env gave \"$out\", not \"$want\""
}

if [ -n "${GUARDED_MATRIX:-}" ]; then
	for v in $VARIANTS; do for w in w_status w_stdin w_64m w_env; do "$w" "$v"; done; done
	ok "every workload on every target: $VARIANTS"
	exit 0
fi
for v in $VARIANTS; do w_status "$v"; w_stdin "$v"; done
ok "ecdsa and rsa host keys, aes256-gcm only, ecdh-sha2-nistp256 only, RekeyLimit 64K, AcceptEnv: exit status, stderr, 1 MB each way"
w_env A
w_env E
ok "env: what the rule lists reaches a server that accepts it; a server that refuses it does not stop the session"
w_64m X
ok "64 MiB of output with a re-key every 64 KiB"
