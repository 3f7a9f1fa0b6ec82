/* A pool of open sessions per token, so independent signatures run in parallel. */
#include "p11-internal.h"

int p11_session_get(struct p11_token *t, CK_SESSION_HANDLE *s, struct reason *why)
{
	CK_RV rv;

	pthread_mutex_lock(&t->lock);
	while (!t->removed && t->n_idle == 0 && t->n_open >= P11_POOL_MAX)
		pthread_cond_wait(&t->pool_cond, &t->lock);
	if (t->removed) {
		pthread_mutex_unlock(&t->lock);
		return p11_token_check_present(t, why);
	}
	if (t->n_idle > 0) {
		*s = t->idle[--t->n_idle];
		pthread_mutex_unlock(&t->lock);
		return ERR_OK;
	}
	t->n_open++;    /* reserve the place before the slow call */
	pthread_mutex_unlock(&t->lock);

	rv = t->module->fn->C_OpenSession(t->slot, CKF_SERIAL_SESSION, NULL, NULL, s);
	if (rv != CKR_OK) {
		pthread_mutex_lock(&t->lock);
		t->n_open--;
		pthread_cond_signal(&t->pool_cond);
		pthread_mutex_unlock(&t->lock);
		return p11_fail(why, t, "C_OpenSession", rv);
	}
	return ERR_OK;
}

void p11_session_put(struct p11_token *t, CK_SESSION_HANDLE s, int broken)
{
	pthread_mutex_lock(&t->lock);
	/* A session of a pulled token is dead even if the token is back in the slot. */
	broken = broken || t->removed;
	if (broken)
		t->n_open--;
	else
		t->idle[t->n_idle++] = s;
	pthread_cond_signal(&t->pool_cond);
	pthread_mutex_unlock(&t->lock);
	if (broken)
		t->module->fn->C_CloseSession(s);
}

void p11_session_close_all(struct p11_token *t)
{
	pthread_mutex_lock(&t->lock);
	while (t->n_idle > 0) {
		t->module->fn->C_CloseSession(t->idle[--t->n_idle]);
		t->n_open--;
	}
	t->logged_in = 0;
	pthread_cond_broadcast(&t->pool_cond);      /* waiters see a removal */
	pthread_mutex_unlock(&t->lock);
}
