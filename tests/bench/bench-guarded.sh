# make bench, guarded execution, from the intermediary with the forwarded agent: the time of
# `true` on the target and of 64 MiB through `cat` there, by p11guard-ssh (relay mode: the
# agent runs the session, every byte through it) and by plain ssh (the agent signs the
# login only). Wall-clock medians and the ratios; asserts nothing about speed.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/guarded-lib.sh"
ROUNDS=${BENCH_ROUNDS:-3}
DELEGATE=$top_builddir/p11guard-ssh

start_sshd T
GUARDED_TARGETS=T
GUARDED_SIGN_RULES="    - action: allow                     # plain ssh from I to T, the baseline
      to: \"[127.0.0.1]:$T_PORT\"
      via: i.test"
guarded_setup '[ cat, "true" ]'
SSH_TO_T="ssh -F /dev/null -p $T_PORT -o BatchMode=yes -o IdentitiesOnly=yes \
-o IdentityFile=$T/pub/ed25519.pub -o UserKnownHostsFile=$T/known_hosts root@127.0.0.1"

# seconds CLIENT: on I, the wall time of 64 MiB through cat on T (checked byte count).
seconds() {
	from_i "s=\$(date +%s.%N); n=\$(head -c 67108864 /dev/zero | $1 cat | wc -c);
		e=\$(date +%s.%N); [ \"\$n\" = 67108864 ] && echo \"\$s \$e\" | awk '{ print \$2 - \$1 }'"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# true_seconds CLIENT: on I, the wall time of CLIENT running `true` on T.
true_seconds() {
	from_i "s=\$(date +%s.%N); $1 true || exit 1; e=\$(date +%s.%N); echo \"\$s \$e\" |
		awk '{ print \$2 - \$1 }'"
}
for round in $(seq $((ROUNDS + 2))); do
	true_seconds "$DELEGATE -p $T_PORT root@127.0.0.1" >> "$T/relay-true.runs" || fail "p11guard-ssh true"
	true_seconds "$SSH_TO_T" >> "$T/ssh-true.runs" || fail "ssh true"
done
relay_true=$(median < "$T/relay-true.runs"); plain_true=$(median < "$T/ssh-true.runs")
echo
echo "guarded session start: \`true\` on the target, from the intermediary (medians of $((ROUNDS + 2)))"
awk -v r="$relay_true" -v p="$plain_true" 'BEGIN {
	printf "  p11guard-ssh  %6.3f s\n  plain ssh     %6.3f s\n", r, p
	printf "  ratio p11guard-ssh/ssh %.2f (target: at most 1.5)\n", r / p }'
for round in $(seq "$ROUNDS"); do
	seconds "$DELEGATE -p $T_PORT root@127.0.0.1" >> "$T/relay.runs" || fail "p11guard-ssh round"
	seconds "$SSH_TO_T" >> "$T/ssh.runs" || fail "plain ssh round"
done
relay=$(median < "$T/relay.runs"); plain=$(median < "$T/ssh.runs")
echo
echo "guarded relay: 64 MiB through cat on the target, from the intermediary (medians of $ROUNDS)"
awk -v r="$relay" -v p="$plain" 'BEGIN {
	printf "  p11guard-ssh (relay)  %6.2f s  %7.1f MiB/s\n", r, 64 / r
	printf "  plain ssh             %6.2f s  %7.1f MiB/s\n", p, 64 / p
	printf "  ratio relay/plain time %.2f\n", r / p }'
