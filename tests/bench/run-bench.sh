# make bench: sig/s and p50/p99 latency for P-256, Ed25519 and RSA-2048 with 1 and 4
# clients, measured in one run against raw C_Sign on the same key and against OpenSSH's
# ssh-agent after ssh-add -s, with the ratios; then the head-of-line figure. Prints figures,
# asserts nothing about speed.
. "$top_srcdir/tests/lib.sh"
BENCH=$top_builddir/tests/bench/bench-sign
SECONDS_EACH=${BENCH_SECONDS:-4}
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

printf '%-9s %-7s %-12s %10s %9s %9s\n' key clients agent "sig/s" "p50 ms" "p99 ms"
for key in p256 ed25519 rsa2048; do
	for clients in 1 4; do
		raw=$("$BENCH" raw "$module" bench "$key" "$PIN" "$clients" "$SECONDS_EACH")
		# OpenSSH 9.2's PKCS#11 support has no Ed25519: no baseline there.
		ossh=$("$BENCH" agent "$T/ssh-agent.sock" "$key" "$clients" "$SECONDS_EACH" \
			2>/dev/null) || ossh="0 n/a n/a 0"
		ours=$("$BENCH" agent "$P11G_SOCK" "$key" "$clients" "$SECONDS_EACH")
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
