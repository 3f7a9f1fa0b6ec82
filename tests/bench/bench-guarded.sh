# make bench, guarded execution: 64 MiB through `cat` on the target, from the intermediary
# with the forwarded agent, by p11guard-ssh (relay mode: every byte through the agent) and
# by plain ssh (the agent signs the login only). Wall-clock medians and the ratio; asserts
# nothing about speed.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/guarded-lib.sh"
ROUNDS=${BENCH_ROUNDS:-3}
DELEGATE=$top_builddir/p11guard-ssh

start_sshd T
GUARDED_TARGETS=T
GUARDED_SIGN_RULES="    - action: allow                     # plain ssh from I to T, the baseline
      to: \"[127.0.0.1]:$T_PORT\"
      via: i.test"
guarded_setup '[ cat ]'
SSH_TO_T="ssh -F /dev/null -p $T_PORT -o BatchMode=yes -o IdentitiesOnly=yes \
-o IdentityFile=$T/pub/ed25519.pub -o UserKnownHostsFile=$T/known_hosts root@127.0.0.1"

# seconds CLIENT: on I, the wall time of 64 MiB through cat on T (checked byte count).
seconds() {
	from_i "s=\$(date +%s.%N); n=\$(head -c 67108864 /dev/zero | $1 cat | wc -c);
		e=\$(date +%s.%N); [ \"\$n\" = 67108864 ] && echo \"\$s \$e\" | awk '{ print \$2 - \$1 }'"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
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
