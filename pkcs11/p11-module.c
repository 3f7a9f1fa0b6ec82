/*
 * Loading PKCS#11 modules through p11-kit, by path or registry name. Each module is loaded and
 * initialized once (with OS locking, so threads may share it) and reference counted.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <p11-kit/p11-kit.h>

#include "p11-internal.h"

#define P11_MAX_MODULES 32

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct p11_module *registry[P11_MAX_MODULES];

/* Finds a p11-kit registered module by name ("softhsm2", "opensc-pkcs11"). */
static char *registry_lookup(const char *name)
{
	CK_FUNCTION_LIST **mods = p11_kit_modules_load(NULL, P11_KIT_MODULE_UNMANAGED);
	char *found = NULL, *mname;

	for (size_t i = 0; mods != NULL && mods[i] != NULL && found == NULL; i++) {
		mname = p11_kit_module_get_name(mods[i]);
		if (mname != NULL && strcmp(mname, name) == 0)
			found = p11_kit_module_get_filename(mods[i]);
		free(mname);
	}
	if (mods != NULL)
		p11_kit_modules_release(mods);
	return found;
}

int p11_module_resolve(const char *spec, char **path, struct reason *why)
{
	char canon[PATH_MAX], *found = NULL;

	if (strchr(spec, '/') == NULL) {
		if ((found = registry_lookup(spec)) == NULL)
			return reason_set(why, ERR_MODULE_LOAD,
			                  "no p11-kit registered module named \"%s\"", spec);
		spec = found;
	}
	if (realpath(spec, canon) == NULL) {
		reason_set(why, ERR_MODULE_LOAD, "module %s: not found", spec);
		free(found);
		return why->code;
	}
	free(found);
	if ((*path = strdup(canon)) == NULL)
		return reason_set(why, ERR_ALLOC, "out of memory");
	return ERR_OK;
}

static int module_initialize(struct p11_module *m, struct reason *why)
{
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;

	memset(&args, 0, sizeof(args));
	/* Without OS locking, SoftHSM and others crash when threads share them. */
	args.flags = CKF_OS_LOCKING_OK;
	rv = m->fn->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		p11_fail(why, NULL, "C_Initialize", rv);
		return reason_wrap(why, "module %s", m->path);
	}
	return ERR_OK;
}

int p11_module_load(const char *spec, struct p11_module **out, struct reason *why)
{
	struct p11_module *m = NULL;
	char *path = NULL;
	int r, slot = -1;

	if ((r = p11_module_resolve(spec, &path, why)) != ERR_OK)
		return r;
	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < P11_MAX_MODULES; i++) {
		if (registry[i] != NULL && strcmp(registry[i]->path, path) == 0) {
			registry[i]->refs++;
			*out = registry[i];
			r = ERR_OK;
			goto out;
		}
		if (registry[i] == NULL && slot < 0)
			slot = i;
	}
	if (slot < 0) {
		r = reason_set(why, ERR_LIMIT, "too many modules loaded (%d)", P11_MAX_MODULES);
		goto out;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		r = reason_set(why, ERR_ALLOC, "out of memory");
		goto out;
	}
	m->path = path;
	path = NULL;
	pthread_rwlock_init(&m->life, NULL);
	m->fn = p11_kit_module_load(m->path, P11_KIT_MODULE_UNMANAGED);
	if (m->fn == NULL) {
		r = reason_set(why, ERR_MODULE_LOAD, "module %s: %s", m->path,
		               p11_kit_message() ? p11_kit_message() : "load failed");
		goto out;
	}
	if ((r = module_initialize(m, why)) != ERR_OK)
		goto out;
	m->refs = 1;
	registry[slot] = m;
	*out = m;
	m = NULL;
	r = ERR_OK;
out:
	pthread_mutex_unlock(&registry_lock);
	if (m != NULL) {
		if (m->fn != NULL)
			p11_kit_module_release(m->fn);
		pthread_rwlock_destroy(&m->life);
		free(m->path);
		free(m);
	}
	free(path);
	return r;
}

void p11_module_release(struct p11_module *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&registry_lock);
	if (--m->refs > 0) {
		pthread_mutex_unlock(&registry_lock);
		return;
	}
	for (int i = 0; i < P11_MAX_MODULES; i++)
		if (registry[i] == m)
			registry[i] = NULL;
	pthread_mutex_unlock(&registry_lock);
	m->fn->C_Finalize(NULL);
	p11_kit_module_release(m->fn);
	pthread_rwlock_destroy(&m->life);
	free(m->path);
	free(m);
}

void p11_module_ref(struct p11_module *m)
{
	pthread_mutex_lock(&registry_lock);
	m->refs++;
	pthread_mutex_unlock(&registry_lock);
}
