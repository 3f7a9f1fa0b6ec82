/*
 * ssh-add -x / -X. Locking forgets every PIN and logs every token out. The passphrase is
 * kept only as a salted PBKDF2 hash, and failed unlocks are slowed by refusing further
 * tries for a growing delay (without tying up a thread).
 */
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "agent.h"
#include "deadline.h"
#include "log.h"

#define LOCK_KDF_ROUNDS 20000
#define LOCK_MAX_DELAY_MS 10000

static int derive(const struct sshagent_bytes *pass, const uint8_t salt[16], uint8_t out[32])
{
	return PKCS5_PBKDF2_HMAC((const char *)pass->data, (int)pass->len, salt, 16,
	                         LOCK_KDF_ROUNDS, EVP_sha256(), 32, out) == 1 ? ERR_OK :
	       ERR_INTERNAL;
}

int agent_is_locked(struct agent *a)
{
	int locked;

	pthread_mutex_lock(&a->lock.mutex);
	locked = a->lock.locked;
	pthread_mutex_unlock(&a->lock.mutex);
	return locked;
}

static int lock(struct agent *a, const struct sshagent_bytes *pass, struct reason *why)
{
	struct agent_lock_state *l = &a->lock;
	int r = ERR_OK;

	pthread_mutex_lock(&l->mutex);
	if (l->locked)
		r = reason_set(why, ERR_AGENT_LOCKED, "already locked");
	else if (RAND_bytes(l->salt, sizeof(l->salt)) != 1 || derive(pass, l->salt, l->hash))
		r = reason_set(why, ERR_INTERNAL, "could not derive the lock key");
	else
		l->locked = 1;
	pthread_mutex_unlock(&l->mutex);
	/* Locked means no PIN in memory and no token left logged in. */
	if (r == ERR_OK)
		keystore_each_token(&a->keys, p11_token_logout);
	return r;
}

static void delay_next_try(struct agent_lock_state *l)
{
	long ms = 100L * (long)l->failures;

	if (ms > LOCK_MAX_DELAY_MS)
		ms = LOCK_MAX_DELAY_MS;
	deadline_in(&l->retry_after, ms);
}

static int unlock(struct agent *a, const struct sshagent_bytes *pass, struct reason *why)
{
	struct agent_lock_state *l = &a->lock;
	uint8_t hash[32];
	int r;

	pthread_mutex_lock(&l->mutex);
	if (!l->locked)
		r = reason_set(why, ERR_DENIED, "agent is not locked");
	else if (!deadline_passed(&l->retry_after))
		r = reason_set(why, ERR_DENIED, "too many wrong passphrases; wait and try again");
	else if (derive(pass, l->salt, hash) != ERR_OK)
		r = reason_set(why, ERR_INTERNAL, "could not derive the lock key");
	else if (CRYPTO_memcmp(hash, l->hash, sizeof(hash)) != 0) {
		l->failures++;
		delay_next_try(l);
		r = reason_set(why, ERR_DENIED, "wrong passphrase");
	} else {
		l->locked = 0;
		l->failures = 0;
		explicit_bzero(l->hash, sizeof(l->hash));
		r = ERR_OK;
	}
	pthread_mutex_unlock(&l->mutex);
	explicit_bzero(hash, sizeof(hash));
	return r;
}

int agent_lock(struct agent *a, struct agent_client *c, const struct sshagent_request *req,
               struct reason *why)
{
	int locking = req->type == SSHAGENTC_LOCK;
	int r;

	r = locking ? lock(a, &req->u.lock.passphrase, why) :
	              unlock(a, &req->u.lock.passphrase, why);
	if (r == ERR_OK)
		log_info("agent %s by pid %ld", locking ? "locked" : "unlocked", (long)c->pid);
	return r;
}
