# Shared by the integration tests: throw-away SoftHSM tokens, the agent, loopback sshds.
# Every test gets its own directory, removed (with its processes) when it exits.
set -eu
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
AGENT=$top_builddir/p11guard-agent
CLI=$top_builddir/p11guard
PIN=123456
T=$(mktemp -d "${TMPDIR:-/tmp}/p11g-test.XXXXXX")
PIDS=""

cleanup() {
	status=$?
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	# Under ASan/UBSan builds, any report from the agent fails the test.
	if grep -l "Sanitizer\|runtime error:" "$T"/*.log 2>/dev/null; then
		grep -h -A15 "Sanitizer\|runtime error:" "$T"/*.log >&2
		status=1
	fi
	if [ "${KEEP_TEST_DIR:-}" = "" ]; then rm -rf "$T"; fi
	exit "$status"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/*.log; do
		[ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; } >&2
	done
	exit 1
}
ok() { echo "ok: $*"; }

softhsm_module() { "$top_srcdir/softhsm-fixtures/find-softhsm"; }

# make_token LABEL [KEYTYPE...]: a token in $T/hsm, exported through SOFTHSM2_CONF.
make_token() {
	"$top_srcdir/softhsm-fixtures/make-token" "$T/hsm" "$@" >/dev/null ||
		fail "making token $1"
	export SOFTHSM2_CONF="$T/hsm/softhsm2.conf"
}

# use_p11wrap: tests/p11wrap in front of SoftHSM, played through files in $T/state.
# Sets WRAP (the module to name in a config).
use_p11wrap() {
	WRAP=$top_builddir/tests/p11wrap/.libs/p11wrap.so
	export P11WRAP_TARGET="$(softhsm_module)" P11WRAP_STATE="$T/state"
	mkdir -p "$T/state"
}

# An askpass that prints $1 for PINs and counts them in $T/askpass.count. Confirmations
# (SSH_ASKPASS_PROMPT=confirm) get an explicit "yes" and are counted in $T/confirm.count.
make_askpass() {
	cat > "$T/askpass" <<ASK
#!/bin/sh
if [ "\${SSH_ASKPASS_PROMPT:-}" = confirm ]; then
	echo x >> "$T/confirm.count"
	echo yes
	exit 0
fi
echo x >> "$T/askpass.count"
printf '%s\n' "$1"
ASK
	chmod +x "$T/askpass"
	export SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0
}

# write_config FILE TOKEN-LABEL...: one config entry per SoftHSM token.
write_config() {
	cfg=$1; shift
	echo "tokens:" > "$cfg"
	for label in "$@"; do
		cat >> "$cfg" <<CFG
  - name: $label
    module: $(softhsm_module)
    uri: "pkcs11:token=$label"
    pin: askpass
CFG
	done
}

wait_for() {    # wait_for SECONDS COMMAND...: polls until the command succeeds
	n=$(($1 * 10)); shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

# start_agent [ARGS...]: runs the agent in the foreground with debug logs.
start_agent() {
	export SSH_AUTH_SOCK="$T/agent.sock"
	"$AGENT" -d -a "$SSH_AUTH_SOCK" "$@" > "$T/agent.log" 2>&1 &
	AGENT_PID=$!
	PIDS="$PIDS $AGENT_PID"
	wait_for 10 test -S "$SSH_AUTH_SOCK" || fail "agent did not start"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_sshd NAME: an sshd on 127.0.0.1 with its own host key (ssh-keygen $SSHD_HOSTKEY_ARGS,
# default -t ed25519), accepting $T/NAME.keys.
# Sets NAME_PORT and adds the host key to $T/known_hosts. With SSHD_HOST_CA set, the host
# key is certified by that CA for the names in SSHD_HOST_PRINCIPALS, and sshd presents it.
start_sshd() {
	name=$1
	d=$T/sshd-$name
	mkdir -p "$d"
	# shellcheck disable=SC2086
	ssh-keygen -q ${SSHD_HOSTKEY_ARGS:--t ed25519} -N '' -f "$d/hostkey"
	hostcert=""
	if [ -n "${SSHD_HOST_CA:-}" ]; then
		ssh-keygen -q -s "$SSHD_HOST_CA" -I "host-$name" -h -n "$SSHD_HOST_PRINCIPALS" \
			"$d/hostkey.pub" || fail "certifying sshd $name's host key"
		hostcert="HostCertificate $d/hostkey-cert.pub"
	fi
	: > "$T/$name.keys"
	[ "$(id -u)" -ne 0 ] || mkdir -p /run/sshd
	port=$(free_port)
	cat > "$d/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $d/hostkey
PidFile $d/sshd.pid
AuthorizedKeysFile $T/$name.keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
LogLevel VERBOSE
PermitRootLogin prohibit-password
$hostcert
${SSHD_EXTRA:-}
${SSHD_ALL_EXTRA:-}
CONF
	/usr/sbin/sshd -D -f "$d/sshd_config" -E "$T/sshd-$name.log" &
	PIDS="$PIDS $!"
	wait_for 10 grep -q "Server listening" "$T/sshd-$name.log" || fail "sshd $name did not start"
	echo "[127.0.0.1]:$port $(cat "$d/hostkey.pub")" >> "$T/known_hosts"
	eval "${name}_PORT=$port"
}

# ssh_run PORT PUBKEY-FILE [SSH-OPTIONS...] -- COMMAND: stock ssh, only that agent key.
ssh_run() {
	port=$1; key=$2; shift 2
	ssh -F /dev/null -p "$port" -o BatchMode=yes -o IdentitiesOnly=yes \
		-o IdentityFile="$key" -o UserKnownHostsFile="$T/known_hosts" \
		-o StrictHostKeyChecking=yes -o ConnectTimeout=10 "$@"
}

# Splits `ssh-add -L` into one public key file per key label: $T/pub/LABEL.pub.
split_pubkeys() {
	mkdir -p "$T/pub"
	ssh-add -L | while read -r type b64 label rest; do
		echo "$type $b64 $label" > "$T/pub/$label.pub"
	done
}

# An askpass that gives the PIN, and answers confirmations as $T/confirm.mode says:
# yes, no, or sleep (never answers). Confirmations are counted in $T/confirm.count.
make_confirm_askpass() {
	echo yes > "$T/confirm.mode"
	cat > "$T/askpass" <<ASK
#!/bin/sh
if [ "\${SSH_ASKPASS_PROMPT:-}" = confirm ]; then
	echo x >> "$T/confirm.count"
	printf '%s\n' "\$1" > "$T/confirm.last"
	case \$(cat "$T/confirm.mode") in
	yes) exit 0 ;;
	no) exit 1 ;;
	*) exec sleep 30 ;;
	esac
fi
echo x >> "$T/askpass.count"
printf '%s\n' "$PIN"
ASK
	chmod +x "$T/askpass"
	export SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0
}

# known_hosts_line NAME ALIAS: "ALIAS,[127.0.0.1]:PORT KEY" for sshd NAME.
known_hosts_line() {
	eval "port=\$${1}_PORT"
	echo "$2,[127.0.0.1]:$port $(cut -d' ' -f1,2 "$T/sshd-$1/hostkey.pub")"
}

# inner_ssh PORT PUBKEY [SSH-OPTIONS...]: the ssh command line to run on an intermediary.
# The options come first, so they win over the defaults (ssh keeps the first value).
inner_ssh() {
	port=$1; key=$2; shift 2
	echo "ssh -F /dev/null $* -p $port -o BatchMode=yes -o IdentitiesOnly=yes" \
		"-o IdentityFile=$key -o UserKnownHostsFile=$T/known_hosts" \
		"-o StrictHostKeyChecking=yes -o ConnectTimeout=10 root@127.0.0.1 true"
}

# Public key files from `p11guard tokens` (keys the policy hides are missing from ssh-add -L).
pubkeys_from_tokens() {
	mkdir -p "$T/pub"
	"$CLI" tokens --config "$1" | awk -v dir="$T/pub" '
		/^    key "/ { split($0, q, "\""); label = q[2] }
		/^      (ssh-|ecdsa-)/ { print $1 " " $2 " " label > (dir "/" label ".pub") }'
}
