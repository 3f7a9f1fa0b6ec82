# make bench: sig/s and p50/p99 latency for P-256, Ed25519 and RSA-2048 with 1 and 4
# clients, measured in one run against raw C_Sign on the same key and against OpenSSH's
# ssh-agent after ssh-add -s, with the ratios; then the head-of-line figure. Prints figures,
# asserts nothing about speed.
. "$top_srcdir/tests/integration/lib.sh"
BENCH=$top_builddir/tests/bench/bench-sign
SECONDS_EACH=${BENCH_SECONDS:-2}
ROUNDS=${BENCH_ROUNDS:-3}
POLICY_SECONDS=${BENCH_POLICY_SECONDS:-2}
module=$(softhsm_module)

make_token bench p256 ed25519 rsa2048
make_token slow p256
# The askpass: instant for the bench token, 2 s for the "slow" one (a user typing).
cat > "$T/askpass" <<ASK
#!/bin/sh
case "\$1" in *slow*) sleep 2 ;; esac
echo $PIN
ASK
chmod +x "$T/askpass"
export SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0
write_config "$T/config.yaml" bench slow
start_agent --config "$T/config.yaml"
P11G_SOCK=$SSH_AUTH_SOCK
"$BENCH" agent "$P11G_SOCK" p256 1 0.2 > /dev/null       # log in before measuring

ssh-agent -D -a "$T/ssh-agent.sock" > "$T/ssh-agent.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 10 test -S "$T/ssh-agent.sock" || fail "ssh-agent did not start"
SSH_AUTH_SOCK="$T/ssh-agent.sock" ssh-add -s "$module" > /dev/null 2>&1 || fail "ssh-add -s to ssh-agent"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# Scheduling on a 2-core machine drifts over seconds: each cell is ROUNDS interleaved rounds
# of the three, and the figures are per-column medians.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
medians() {     # medians FILE: median sig/s, p50 and p99 of the rows in FILE
	for col in 1 2 3; do cut -d' ' -f$col "$1" | median; done | tr '\n' ' '
}
printf '%-9s %-7s %-12s %10s %9s %9s   (medians of %s rounds of %s s)\n' key clients agent \
	"sig/s" "p50 ms" "p99 ms" "$ROUNDS" "$SECONDS_EACH"
for key in p256 ed25519 rsa2048; do
	for clients in 1 4; do
		rm -f "$T/raw.runs" "$T/ossh.runs" "$T/ours.runs"
		for round in $(seq "$ROUNDS"); do
			"$BENCH" raw "$module" bench "$key" "$PIN" "$clients" "$SECONDS_EACH" >> "$T/raw.runs"
			# OpenSSH 9.2's PKCS#11 support has no Ed25519: no baseline there.
			"$BENCH" agent "$T/ssh-agent.sock" "$key" "$clients" "$SECONDS_EACH" \
				>> "$T/ossh.runs" 2>/dev/null || echo "0 n/a n/a 0" >> "$T/ossh.runs"
			"$BENCH" agent "$P11G_SOCK" "$key" "$clients" "$SECONDS_EACH" >> "$T/ours.runs"
		done
		raw=$(medians "$T/raw.runs"); ossh=$(medians "$T/ossh.runs"); ours=$(medians "$T/ours.runs")
		for row in "raw-C_Sign:$raw" "ssh-agent:$ossh" "p11guard:$ours"; do
			set -- ${row#*:}
			printf '%-9s %-7s %-12s %10s %9s %9s\n' "$key" "$clients" "${row%%:*}" "$1" "$2" "$3"
		done
		set -- $raw; raw_rate=$1
		set -- $ossh; ossh_rate=$1
		set -- $ours; ours_rate=$1
		printf '%-9s %-7s ratios: p11guard/raw %s, p11guard/ssh-agent %s\n' "$key" "$clients" \
			"$(ratio "$ours_rate" "$raw_rate")" "$(ratio "$ours_rate" "$ossh_rate")"
	done
done

echo
echo "head-of-line: P-256 signatures while another client waits 2 s on a PIN prompt"
hol=$("$BENCH" hol "$P11G_SOCK" "(slow" "p256 (bench" 2> "$T/hol.err")
set -- $hol
echo "  $1 sig/s, p50 $2 ms, p99 $3 ms over $4 signatures; $(cat "$T/hol.err")"

# Policy cost: P-256 signatures on connections bound to a host key (as ssh binds them),
# under a 1-rule policy and under 10,000 rules, each agent on its own socket.
echo
echo "policy: P-256, 1 client, bound connections signing userauth requests (medians of 5)"
host_pub=$("$BENCH" hostkey "$T/host.seed")
write_policy() {        # write_policy FILE NRULES NO_TO: NO_TO of them without a destination
	write_config "$1" bench
	python3 - "$1" "$2" "$3" "$host_pub" <<'PY'
import base64, os, struct, sys
path, n, no_to, host = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def blob():
    t = b"ssh-ed25519"
    return struct.pack(">I", len(t)) + t + struct.pack(">I", 32) + os.urandom(32)
with open(path, "a") as f:
    f.write("policy:\n  default: deny\n  known_hosts: [ /nonexistent ]\n  rules:\n")
    for i in range(n - 1):
        fp = "SHA256:" + base64.b64encode(os.urandom(32)).decode().rstrip("=")
        f.write("    - action: allow\n      keys: \"%s\"\n" % fp)
        if i >= no_to:
            f.write("      to: \"ssh-ed25519 %s\"\n" % base64.b64encode(blob()).decode())
        f.write("      users: [ \"u%d\", \"!root\" ]\n" % i)
    f.write("    - action: allow\n      keys: \"pkcs11:object=p256\"\n      to: \"%s\"\n" % host)
PY
}
start_policy_agent() {  # start_policy_agent NAME FILE: an agent on $T/NAME.sock, logged in
	"$AGENT" -D -a "$T/$1.sock" --config "$2" > "$T/$1.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 30 test -S "$T/$1.sock" || fail "agent with $1 did not start"
	"$BENCH" bound "$T/$1.sock" p256 "$T/host.seed" 1 0.2 > /dev/null
}
write_policy "$T/policy-1.yaml" 1 0
write_policy "$T/policy-10k.yaml" 10000 0
write_policy "$T/policy-10k-noto.yaml" 10000 10000
start_policy_agent p1 "$T/policy-1.yaml"
start_policy_agent p10k "$T/policy-10k.yaml"
start_policy_agent p10kflat "$T/policy-10k-noto.yaml"
# Scheduling on a small machine makes single runs noisy: five interleaved rounds, medians.
for round in 1 2 3 4 5; do
	for name in p1 p10k p10kflat; do
		"$BENCH" bound "$T/$name.sock" p256 "$T/host.seed" 1 "$POLICY_SECONDS" >> "$T/$name.runs"
	done
done
for name in p1 p10k p10kflat; do
	eval "${name}_rate=$(cut -d' ' -f1 "$T/$name.runs" | median)"
	eval "${name}_p50=$(cut -d' ' -f2 "$T/$name.runs" | median)"
	eval "${name}_p99=$(cut -d' ' -f3 "$T/$name.runs" | median)"
done
printf '  %-18s %10s sig/s  p50 %s ms  p99 %s ms\n' 1-rule "$p1_rate" "$p1_p50" "$p1_p99" \
	10k-rules-by-host "$p10k_rate" "$p10k_p50" "$p10k_p99" \
	10k-rules-no-host "$p10kflat_rate" "$p10kflat_p50" "$p10kflat_p99"
awk -v b="$p1_p50" -v g="$p10k_p50" -v f="$p10kflat_p50" 'BEGIN {
	printf "  p50 added by 10,000 rules: %+.1f %% (each naming a host key), %+.1f %% (none naming a host)\n",
	       (g - b) / b * 100, (f - b) / b * 100 }'
