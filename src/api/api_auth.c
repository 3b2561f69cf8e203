/*! \file api_auth.c
 *  Tenants and keys of the HTTP API. A key is "uk_" and 64 hex digits of getrandom(); the gateway keeps only its
 *  SHA-256 (in memory, hashed by it, and in the store's api_key table), so neither a database dump nor a core
 *  file gives a working key. Keys are high-entropy: a plain hash suffices, no password KDF is needed.
 *  The rate limit is a token bucket per key: `rate-limit N` of the key's tenant per second, bursts of 2N. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <nettle/sha2.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/core/logging.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/common/channel.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/campaign.h>
#include "api_priv.h"

static const char *const scope_names[_UIGW_SCOPE_NUM] = {
	[UIGW_SCOPE_CAMPAIGNS] = "campaigns",
	[UIGW_SCOPE_TRIGGER] = "trigger",
	[UIGW_SCOPE_EVENTS] = "events",
	[UIGW_SCOPE_RESULTS] = "results",
	[UIGW_SCOPE_SPAM] = "spam",
	[UIGW_SCOPE_ADMIN] = "admin",
	[UIGW_SCOPE_METRICS] = "metrics",
};

const char *uigw_api_scope_name(enum uigw_api_scope s)
{
	return s < _UIGW_SCOPE_NUM ? scope_names[s] : "?";
}

int uigw_api_scope_by_name(const char *name)
{
	int i;

	for (i = 0; i < _UIGW_SCOPE_NUM; i++)
		if (!strcmp(scope_names[i], name))
			return i;
	return -1;
}

const char *uigw_api_scopes_str(uint32_t scopes, char *buf, size_t len)
{
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < _UIGW_SCOPE_NUM; i++) {
		if (!(scopes & (1u << i)))
			continue;
		used += snprintf(buf + used, used < len ? len - used : 0, "%s%s", used ? " " : "", scope_names[i]);
	}
	return buf;
}

static uint32_t scopes_parse(const char *s)
{
	char tmp[128], *save = NULL, *w;
	uint32_t bits = 0;
	int sc;

	osmo_strlcpy(tmp, s, sizeof(tmp));
	for (w = strtok_r(tmp, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		sc = uigw_api_scope_by_name(w);
		if (sc >= 0)
			bits |= 1u << sc;
	}
	return bits;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* tenants */

struct uigw_api_tenant *uigw_api_tenant_find(struct uigw_api *api, const char *name)
{
	struct uigw_api_tenant *t;

	llist_for_each_entry(t, &api->tenants, list)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

static bool tenant_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

struct uigw_api_tenant *uigw_api_tenant_get(struct uigw_api *api, const char *name)
{
	struct uigw_api_tenant *t = uigw_api_tenant_find(api, name);

	if (t)
		return t;
	if (!tenant_name_ok(name))
		return NULL;
	t = talloc_zero(api, struct uigw_api_tenant);
	if (!t)
		return NULL;
	t->name = talloc_strdup(t, name);
	t->is_operator = !strcmp(name, "operator");
	t->may_push = true;
	t->channels = UIGW_CHAN_MASK_ALL;
	/* third parties are limited by default, the operator's own systems are not */
	t->rate_limit = t->is_operator ? 0 : 50;
	t->max_nodes = 20;
	t->max_proposals = 10;
	t->node_kinds = 0xffffffff;
	t->actions = 1u << UIGW_ACT_RECORD | 1u << UIGW_ACT_REACTION | 1u << UIGW_ACT_APP_RATING | 1u << UIGW_ACT_FLAG;
	if (!t->is_operator) {
		t->push_cap_count = 1;
		t->push_cap_per = 86400;
	}
	llist_add_tail(&t->list, &api->tenants);
	return t;
}

int uigw_api_tenant_add(struct uigw_api *api, const char *name)
{
	if (!tenant_name_ok(name))
		return -EINVAL;
	return uigw_api_tenant_get(api, name) ? 0 : -ENOMEM;
}

void uigw_api_tenant_del(struct uigw_api *api, struct uigw_api_tenant *t)
{
	if (t->is_operator)
		return;
	llist_del(&t->list);
	talloc_free(t);
}

bool uigw_api_owns(const struct uigw_api_tenant *t, const struct uigw_campaign *c)
{
	if (t->is_operator)
		return true;
	return c->owner && !strcmp(c->owner, t->name);
}

/* ---------------------------------------------------------------------------------------------------------- */
/* keys */

static uint32_t hash_key(const uint8_t *h)
{
	return (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
}

static void sha256_of(const char *s, size_t len, uint8_t out[32])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, len, (const uint8_t *)s);
	sha256_digest(&ctx, 32, out);
}

static struct uigw_api_key *key_add(struct uigw_api *api, int64_t id, const char *tenant, const uint8_t hash[32],
				    uint32_t scopes)
{
	struct uigw_api_key *k = talloc_zero(api, struct uigw_api_key);

	if (!k)
		return NULL;
	k->id = id;
	osmo_strlcpy(k->tenant, tenant, sizeof(k->tenant));
	memcpy(k->hash, hash, 32);
	k->scopes = scopes;
	llist_add_tail(&k->list, &api->keys);
	hash_add(api->keys_by_hash, &k->hnode, hash_key(hash));
	if (id > api->max_key_id)
		api->max_key_id = id;
	return k;
}

struct uigw_api_key *uigw_api_key_find(struct uigw_api *api, const char *authorization)
{
	struct uigw_api_key *k;
	const char *key;
	uint8_t h[32];
	size_t len;

	if (!authorization || strncasecmp(authorization, "Bearer ", 7))
		return NULL;
	key = authorization + 7;
	while (*key == ' ')
		key++;
	len = strlen(key);
	while (len && (key[len - 1] == ' ' || key[len - 1] == '\t'))
		len--;
	if (len < 8 || len > 256)
		return NULL;
	sha256_of(key, len, h);
	hash_for_each_possible(api->keys_by_hash, k, hnode, hash_key(h))
		if (!memcmp(k->hash, h, 32))
			return k;
	return NULL;
}

bool uigw_api_key_take(struct uigw_api *api, struct uigw_api_key *k, const struct uigw_api_tenant *t)
{
	int64_t now = uigw_mono_us();
	double burst;

	if (!t->rate_limit)
		return true;
	burst = 2.0 * t->rate_limit;
	if (!k->tokens_us) {
		k->tokens = burst;
	} else {
		k->tokens += (double)(now - k->tokens_us) * t->rate_limit / 1e6;
		if (k->tokens > burst)
			k->tokens = burst;
	}
	k->tokens_us = now;
	if (k->tokens < 1.0)
		return false;
	k->tokens -= 1.0;
	return true;
}

static void key_loaded(const struct uigw_store_api_key *sk, void *data)
{
	struct uigw_api *api = data;
	struct uigw_api_key *k;
	uint8_t h[32];

	if (osmo_hexparse(sk->hash, h, sizeof(h)) != 32) {
		LOGP(DAPI, LOGL_ERROR, "API key %" PRId64 ": bad hash in the store, ignored\n", sk->id);
		return;
	}
	k = key_add(api, sk->id, sk->tenant, h, scopes_parse(sk->scopes));
	if (!k)
		return;
	k->created_ms = sk->created_ms;
	k->last_used_ms = k->last_used_written_ms = sk->last_used_ms;
	k->revoked_ms = sk->revoked_ms;
}

int uigw_api_keys_load(struct uigw_api *api)
{
	int rc;

	if (api->keys_loaded || !api->gw->store)
		return 0;
	rc = uigw_store_api_keys(api->gw->store, key_loaded, api);
	if (rc < 0)
		return rc;
	api->keys_loaded = true;
	LOGP(DAPI, LOGL_INFO, "API: %d keys loaded\n", rc);
	return 0;
}

/* a key as another gateway left it: new ones added, a revocation taken over */
static void key_synced(const struct uigw_store_api_key *sk, void *data)
{
	struct uigw_api *api = data;
	struct uigw_api_key *k;

	llist_for_each_entry(k, &api->keys, list) {
		if (k->id != sk->id)
			continue;
		if (sk->revoked_ms && !k->revoked_ms) {
			k->revoked_ms = sk->revoked_ms;
			LOGP(DAPI, LOGL_NOTICE, "API: key %" PRId64 " of tenant %s revoked by another gateway\n", k->id,
			     k->tenant);
		}
		return;
	}
	key_loaded(sk, data);
	LOGP(DAPI, LOGL_INFO, "API: key %" PRId64 " of tenant %s created by another gateway\n", sk->id, sk->tenant);
}

int uigw_api_keys_sync(struct uigw_api *api)
{
	int rc;

	if (!api->keys_loaded)
		return uigw_api_keys_load(api);
	rc = uigw_store_api_keys(api->gw->store, key_synced, api);
	return rc < 0 ? rc : 0;
}

static void key_job_done(struct uigw_store_job *job, void *data)
{
	int *rc = data;

	if (rc)
		*rc = job->rc;
	else if (job->rc < 0)
		LOGP(DAPI, LOGL_ERROR, "API key change not stored (%d)\n", job->rc);
	talloc_free(job);
}

/* Write one key row now (operator commands only: waits for the commit). */
static int key_store(struct uigw_api *api, const struct uigw_api_key *k, bool revoke, const char *hash_hex,
		     const char *scopes)
{
	struct uigw_store *st = api->gw->store;
	struct uigw_store_job *job;
	struct uigw_store_row *r;
	int rc = 1;

	if (!st)
		return 0;	/* no store: the key lives until the end of this run */
	job = uigw_store_job_alloc(st, key_job_done, &rc);
	if (!job)
		return -ENOMEM;
	r = uigw_store_job_row(job, UIGW_ROW_API_KEY);
	if (!r) {
		talloc_free(job);
		return -ENOMEM;
	}
	r->time_ms = revoke ? k->revoked_ms : k->created_ms;
	r->u.api_key.id = k->id;
	r->u.api_key.revoke = revoke;
	r->u.api_key.tenant = k->tenant;
	r->u.api_key.hash = hash_hex;
	r->u.api_key.scopes = scopes;
	if (uigw_store_submit(job) < 0) {
		talloc_free(job);
		return -EIO;
	}
	uigw_store_drain(st);
	return rc == 0 ? 0 : -EIO;
}

int uigw_api_key_create(struct uigw_api *api, const char *tenant, uint32_t scopes, char *key_out, size_t key_len,
			int64_t *id_out)
{
	uint8_t rnd[32], h[32];
	char key[sizeof(UIGW_API_KEY_PREFIX) + 64], hex[65], sc[128];
	struct uigw_api_key *k;
	int rc = -EIO, attempt;

	if (!uigw_api_tenant_find(api, tenant))
		return -ENOENT;
	if (!scopes || key_len < sizeof(key))
		return -EINVAL;
	if (uigw_api_keys_load(api) < 0)
		return -EIO;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	snprintf(key, sizeof(key), "%s%s", UIGW_API_KEY_PREFIX, osmo_hexdump_nospc(rnd, sizeof(rnd)));
	sha256_of(key, strlen(key), h);
	osmo_strlcpy(hex, osmo_hexdump_nospc(h, sizeof(h)), sizeof(hex));
	/* on a shared store the next id is the database's: another gateway's key may have taken the one memory has
	 * (its row refused: read again, once) */
	for (attempt = 0; attempt < 2; attempt++) {
		if (uigw_store_shared(api->gw->store))
			uigw_api_sync(api, true);
		k = key_add(api, api->max_key_id + 1, tenant, h, scopes);
		if (!k)
			return -ENOMEM;
		k->created_ms = uigw_wall_ms();
		rc = key_store(api, k, false, hex, uigw_api_scopes_str(scopes, sc, sizeof(sc)));
		if (rc == 0)
			break;
		hash_del(&k->hnode);
		llist_del(&k->list);
		talloc_free(k);
		if (!uigw_store_shared(api->gw->store))
			return rc;
	}
	if (rc < 0)
		return rc;
	osmo_strlcpy(key_out, key, key_len);
	if (id_out)
		*id_out = k->id;
	LOGP(DAPI, LOGL_NOTICE, "API: key %" PRId64 " created for tenant %s (%s)\n", k->id, tenant, sc);
	return 0;
}

int uigw_api_key_revoke(struct uigw_api *api, const char *tenant, int64_t id)
{
	struct uigw_api_key *k;

	llist_for_each_entry(k, &api->keys, list) {
		if (k->id != id || strcmp(k->tenant, tenant))
			continue;
		if (k->revoked_ms)
			return 0;
		k->revoked_ms = uigw_wall_ms();
		LOGP(DAPI, LOGL_NOTICE, "API: key %" PRId64 " of tenant %s revoked\n", id, tenant);
		return key_store(api, k, true, NULL, NULL) < 0 ? -EIO : 0;
	}
	return -ENOENT;
}
