/*
 * The policy decision point: what a request is (key, verified destination, user, hops,
 * client), OpenSSH's own ssh-add -h restrictions, the policy's answer, the confirmation
 * prompt and the audit line.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "log.h"
#include "confirm.h"
#include "userauth.h"

/* Where a request goes, as far as the connection's bindings and the signed data prove. */
struct route {
	const struct sshpub *dest;
	const struct sshcert *dest_cert;        /* the host certificate dest was bound with */
	const struct sshpub *hops[BIND_MAX];
	size_t nhops;
};

static void route_for_listing(const struct bindings *bs, struct route *rt)
{
	const struct binding *last = bindings_last(bs);

	memset(rt, 0, sizeof(*rt));
	/* A forwarding hop last means the destination is still to come. */
	rt->nhops = last == NULL ? 0 : last->forwarded ? bs->n : bs->n - 1;
	for (size_t i = 0; i < rt->nhops; i++)
		rt->hops[i] = &bs->hop[i].hostkey;
	if (last != NULL && !last->forwarded) {
		rt->dest = &last->hostkey;
		rt->dest_cert = last->cert;
	}
}

/* The destination counts as verified only when the signed login is for the bound session. */
static int route_for_signing(const struct bindings *bs, const struct userauth *ua,
                             struct route *rt, struct reason *why)
{
	const struct binding *last = bindings_last(bs);

	route_for_listing(bs, rt);
	if (last == NULL || last->forwarded)
		return ERR_OK;
	rt->dest = NULL;
	rt->dest_cert = NULL;
	if (ua == NULL)
		return ERR_OK;
	if (ua->sid_len != last->sid_len || memcmp(ua->sid, last->sid, ua->sid_len) != 0)
		return reason_set(why, ERR_DENIED, "the login being signed is not for the session "
		                  "this connection was bound to (%s)", last->hostkey.fingerprint);
	if (ua->hostbound && !sshpub_equal(&ua->hostkey, &last->hostkey))
		return reason_set(why, ERR_DENIED, "the login names host key %s but the session "
		                  "was bound to %s", ua->hostkey.fingerprint,
		                  last->hostkey.fingerprint);
	rt->dest = &last->hostkey;
	rt->dest_cert = last->cert;
	return ERR_OK;
}

/* ssh-agent's extra checks for destination-constrained keys (ssh-agent.c, sign request). */
static int check_ssh_add_h(const struct ks_identity *id, const struct bindings *bs,
                           const struct userauth *ua, struct reason *why)
{
	if (id->src->dest == NULL)
		return ERR_OK;
	if (bs->n == 0)
		return reason_set(why, ERR_DENIED, "key restricted by ssh-add -h, and this "
		                  "connection is not bound to any session");
	if (ua == NULL)
		return reason_set(why, ERR_DENIED, "key restricted by ssh-add -h signs only "
		                  "logins, and this is not one");
	if (dest_constraints_permit(id->src->dest, bs, ua->user, NULL, why) != ERR_OK)
		return why->code;
	if (bs->n > 1 && !ua->hostbound)
		return reason_set(why, ERR_DENIED, "forwarded login without the server's host key "
		                  "(publickey-hostbound) for a key restricted by ssh-add -h");
	return ERR_OK;
}

/* What a key lives on: its token, or nothing but the agent's memory. */
static const struct p11_token_desc *token_of(const struct ks_identity *id)
{
	static const struct p11_token_desc software = { .label = "software key" };

	return id->soft != NULL ? &software : p11_token_describe(p11_key_token(id->key));
}

static const char *label_of(const struct ks_identity *id)
{
	return id->soft != NULL ? id->comment : p11_key_label(id->key);
}

static void key_of(const struct ks_identity *id, struct policy_key *k)
{
	k->fingerprint = id->fingerprint;
	k->token = id->src->name;
	k->uri = id->uri;
}

static void record(struct agent *a, const struct agent_client *c, const struct ks_identity *id,
                   const struct policy *pol, const struct route *rt, const char *user,
                   const char *event, const char *decision, const char *rule,
                   const char *reason, const char *dest_name)
{
	const struct p11_token_desc *d = token_of(id);
	const char *hops[BIND_MAX], *hop_names[BIND_MAX];
	char names[BIND_MAX][128];
	struct audit_event ev = {
		.event = event, .decision = decision, .rule = rule, .reason = reason,
		.pid = c->pid, .uid = c->uid, .exe = c->exe[0] ? c->exe : NULL,
		.key_fingerprint = id->fingerprint, .key_comment = id->comment,
		.key_source = id->src->name,
		.token_serial = id->soft != NULL ? NULL : d->serial, .slot = d->slot_id,
		.dest_fingerprint = rt->dest ? rt->dest->fingerprint : NULL,
		.dest_name = dest_name && dest_name[0] ? dest_name : NULL,
		.user = user, .hops = hops, .hop_names = hop_names, .nhops = rt->nhops,
	};

	for (size_t i = 0; i < rt->nhops; i++) {
		hops[i] = rt->hops[i]->fingerprint;
		policy_host_names(pol, rt->hops[i], names[i], sizeof(names[i]));
		hop_names[i] = names[i];
	}
	audit_record(&a->audit, &ev);
}

static void describe_hops(const struct policy *pol, const struct route *rt, char *out,
                          size_t size)
{
	size_t used = 0;

	snprintf(out, size, "%s", rt->nhops == 0 ? "direct (this machine)" : "");
	for (size_t i = 0; i < rt->nhops && used < size; i++) {
		char name[128];

		policy_host_names(pol, rt->hops[i], name, sizeof(name));
		used += (size_t)snprintf(out + used, size - used, "%s%s (%s)", i ? " -> " : "",
		                         name[0] ? name : "unknown host", rt->hops[i]->fingerprint);
	}
}

/*
 * Where the confirmation is asked: the token's confirm_prompt, else the top-level one, else
 * the token's PIN prompt when that asks a person (askpass or pinentry), else askpass.
 */
void agent_confirm_prompt(struct agent *a, const struct ks_pin_spec *pin,
                          struct confirm_prompt *how, char *program, size_t size)
{
	enum confirm_via via = pin->confirm;
	const char *from = pin->confirm_program;

	pthread_mutex_lock(&a->policy_lock);
	if (via == CONFIRM_VIA_UNSET && a->confirm_via != CONFIRM_VIA_UNSET) {
		via = a->confirm_via;
		from = a->confirm_program;
	}
	if (via == CONFIRM_VIA_UNSET) {
		via = pin->kind == PIN_SOURCE_PINENTRY ? CONFIRM_VIA_PINENTRY : CONFIRM_VIA_ASKPASS;
		from = pin->path;
	}
	snprintf(program, size, "%s", via == CONFIRM_VIA_PINENTRY && from ? from : "");
	pthread_mutex_unlock(&a->policy_lock);
	how->via = via;
	how->program = program;
}

static int confirm(struct agent *a, const struct ks_identity *id, const struct agent_client *c,
                   const struct policy *pol, const struct route *rt, const char *user,
                   const char *dest_name, struct reason *why)
{
	const struct p11_token_desc *d = token_of(id);
	char text[1536], hops[600], program[4096];
	struct confirm_prompt how;

	describe_hops(pol, rt, hops, sizeof(hops));
	snprintf(text, sizeof(text),
	         "Allow a signature with key \"%s\"?\n"
	         "Token: %s (serial %s, slot %lu)\n"
	         "Destination: %s%s%s\n"
	         "User: %s\n"
	         "Via: %s\n"
	         "Requested by: %s (pid %ld)",
	         label_of(id), d->label, d->serial, d->slot_id,
	         rt->dest ? (dest_name && dest_name[0] ? dest_name : "unknown name") :
	         "not verified", rt->dest ? " " : "", rt->dest ? rt->dest->fingerprint : "",
	         user ? user : "not a login", hops, c->exe[0] ? c->exe : "unknown program",
	         (long)c->pid);
	agent_confirm_prompt(a, id->src->pin, &how, program, sizeof(program));
	/* The first hop holds the forwarded socket; later hops are only its word. */
	return confirm_ask(&how, rt->nhops > 0 ? rt->hops[0]->fingerprint : NULL, text, why);
}

/* What a PIN prompt says the PIN is for: "sign with key "git" for git@gitlab.example.com". */
static void describe_purpose(const struct ks_identity *id, const struct route *rt,
                             const char *user, const char *dest_name, char *out, size_t size)
{
	const char *dest = dest_name && dest_name[0] ? dest_name :
	                   rt->dest ? rt->dest->fingerprint : "an unverified host";

	if (user != NULL)
		snprintf(out, size, "sign with key \"%s\" for %s@%s", label_of(id), user,
		         dest);
	else
		snprintf(out, size, "sign with key \"%s\"", label_of(id));
}

/* For `p11guard why`: what this signature request is about, before it may be refused. */
static void about_key(struct agent_client *c, const struct ks_identity *id)
{
	memset(&c->about, 0, sizeof(c->about));
	snprintf(c->about.key, sizeof(c->about.key), "%s", id->fingerprint);
	snprintf(c->about.key_label, sizeof(c->about.key_label), "%s", label_of(id));
}

static void describe_decision(struct refusal_context *about, const struct route *rt,
                              const struct policy_decision *dec)
{
	snprintf(about->dest, sizeof(about->dest), "%s", dec->dest_name[0] ? dec->dest_name :
	         rt->dest != NULL ? rt->dest->fingerprint : "");
	if (dec->rule != NULL)
		snprintf(about->rule, sizeof(about->rule), "%s", dec->where);
	else
		snprintf(about->rule, sizeof(about->rule), "default: %s (%s)",
		         dec->action == POLICY_ALLOW ? "allow" : "deny", dec->where);
}

/*
 * A key hidden from a connection bound to a session is a refused login for the user: ssh
 * never offers it. `p11guard why` must show it as much as a refused signature.
 */
static void remember_hidden(struct agent *a, const struct agent_client *c,
                            const struct ks_identity *id, const struct route *rt,
                            const struct policy_decision *dec, const char *reason)
{
	struct refusal f = { .when = time(NULL), .pid = (long)c->pid, .uid = (long)c->uid };

	if (c->bindings->n == 0)
		return;
	snprintf(f.what, sizeof(f.what), "list");
	snprintf(f.ctx.key, sizeof(f.ctx.key), "%s", id->fingerprint);
	snprintf(f.ctx.key_label, sizeof(f.ctx.key_label), "%s", label_of(id));
	if (dec != NULL) {
		describe_decision(&f.ctx, rt, dec);
	} else {
		snprintf(f.ctx.dest, sizeof(f.ctx.dest), "%s", rt->dest ? rt->dest->fingerprint : "");
		snprintf(f.ctx.rule, sizeof(f.ctx.rule), "ssh-add -h");
	}
	snprintf(f.reason, sizeof(f.reason), "hidden from the key list: %s", reason);
	agent_note_refusal(a, &f);
}

int agent_authorize_sign(struct agent *a, struct agent_client *c,
                         const struct ks_identity *id, const uint8_t *data, size_t len,
                         char *purpose, size_t purpose_size, struct reason *why)
{
	struct policy *pol = agent_policy(a);
	struct policy_decision dec;
	struct policy_request req;
	struct policy_key key;
	struct userauth ua;
	struct route rt;
	int have_ua, r;

	have_ua = userauth_parse(data, len, id->blob, id->blob_len, &ua) == ERR_OK;
	about_key(c, id);
	if (have_ua && agent_guard_owns_session(ua.sid, ua.sid_len)) {
		r = reason_set(why, ERR_DENIED, "a signature for a guarded session: the agent signs "
		               "that session's login itself, for no one else");
		snprintf(c->about.rule, sizeof(c->about.rule), "guarded session");
		rt = (struct route){ 0 };
		record(a, c, id, pol, &rt, ua.user, "sign", "deny", "guarded session", why->text,
		       NULL);
		goto out;
	}
	if ((r = route_for_signing(c->bindings, have_ua ? &ua : NULL, &rt, why)) != ERR_OK ||
	    (r = check_ssh_add_h(id, c->bindings, have_ua ? &ua : NULL, why)) != ERR_OK) {
		snprintf(c->about.rule, sizeof(c->about.rule), "%s",
		         id->src->dest != NULL ? "ssh-add -h" : "session binding");
		record(a, c, id, pol, &rt, have_ua ? ua.user : NULL, "sign", "deny",
		       "session binding", why->text, NULL);
		goto out;
	}
	key_of(id, &key);
	req = (struct policy_request){
		.listing = 0, .key = &key, .dest = rt.dest, .dest_cert = rt.dest_cert,
		.hops = rt.hops, .nhops = rt.nhops,
		.user = have_ua ? ua.user : NULL, .client_exe = c->exe[0] ? c->exe : NULL,
	};
	policy_decide(pol, &req, &dec);
	/*
	 * Under the built-in default, a key added with ssh-add -h follows the user's stated
	 * restrictions alone, as in ssh-agent; the forwarded-use confirmation is for the rest.
	 */
	if (pol->builtin && id->src->dest != NULL)
		dec.confirm = 0;
	describe_decision(&c->about, &rt, &dec);
	if (dec.action == POLICY_DENY) {
		r = reason_set(why, ERR_DENIED, "%s (%s)", dec.reason, dec.where);
	} else if ((dec.confirm || id->src->confirm) &&
	           (r = confirm(a, id, c, pol, &rt, req.user, dec.dest_name, why)) != ERR_OK) {
		reason_wrap(why, "confirmation for rule %s", dec.where);
	} else {
		r = ERR_OK;
	}
	record(a, c, id, pol, &rt, req.user, "sign", r == ERR_OK ? "allow" : "deny", dec.where,
	       r == ERR_OK ? dec.reason : why->text, dec.dest_name);
	describe_purpose(id, &rt, req.user, dec.dest_name, purpose, purpose_size);
out:
	if (have_ua)
		userauth_free(&ua);
	policy_unref(pol);
	return r;
}

/* Whether this key was already reported hidden here; remembers it if not. */
static int hidden_before(struct agent_client *c, const struct ks_identity *id)
{
	if (c->hidden_bindings != c->bindings->n) {
		c->nhidden = 0;         /* a new binding may change the answer: report anew */
		c->hidden_bindings = c->bindings->n;
	}
	for (size_t i = 0; i < c->nhidden; i++)
		if (strcmp(c->hidden[i], id->fingerprint) == 0)
			return 1;
	if (c->nhidden < sizeof(c->hidden) / sizeof(c->hidden[0]))
		snprintf(c->hidden[c->nhidden++], sizeof(c->hidden[0]), "%s", id->fingerprint);
	return 0;
}

int agent_may_list(struct agent *a, struct agent_client *c, const struct policy *pol,
                   const struct ks_identity *id)
{
	struct policy_decision dec;
	struct policy_request req;
	struct policy_key key;
	struct route rt;
	struct reason why;

	route_for_listing(c->bindings, &rt);
	reason_clear(&why);
	if (id->src->dest != NULL &&
	    dest_constraints_permit(id->src->dest, c->bindings, NULL, NULL, &why) != ERR_OK) {
		if (c->bindings->n > 0 && !hidden_before(c, id)) {
			log_info("hiding key %s from pid %ld: %s", id->fingerprint, (long)c->pid,
			         why.text);
			record(a, c, id, pol, &rt, NULL, "list", "hide", "ssh-add -h", why.text, NULL);
			remember_hidden(a, c, id, &rt, NULL, why.text);
		}
		return 0;
	}
	key_of(id, &key);
	req = (struct policy_request){
		.listing = 1, .key = &key, .dest = rt.dest, .dest_cert = rt.dest_cert,
		.hops = rt.hops, .nhops = rt.nhops,
		.client_exe = c->exe[0] ? c->exe : NULL,
	};
	policy_decide(pol, &req, &dec);
	if (dec.action == POLICY_ALLOW)
		return 1;
	if (hidden_before(c, id))
		return 0;
	log_info("hiding key %s from pid %ld: %s (%s)", id->fingerprint, (long)c->pid,
	         dec.reason, dec.where);
	record(a, c, id, pol, &rt, NULL, "list", "hide", dec.where, dec.reason, dec.dest_name);
	remember_hidden(a, c, id, &rt, &dec, dec.reason);
	return 0;
}
