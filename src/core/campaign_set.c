/*! \file campaign_set.c
 *  The set of campaigns in service: loading a folder, checks that span files, versions, references. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/campaign.h>

int uigw_campaign_node_idx(const struct uigw_campaign *c, const char *id)
{
	unsigned int i;

	if (!c || !id)
		return -1;
	for (i = 0; i < c->n_nodes; i++)
		if (c->nodes[i].id && !strcmp(c->nodes[i].id, id))
			return i;
	return -1;
}

const struct uigw_tmpl *uigw_i18n_get(const struct uigw_i18n *t, const char *lang)
{
	unsigned int i;

	if (!t || !t->n)
		return NULL;
	for (i = 0; lang && i < t->n; i++)
		if (!strcmp(t->v[i].lang, lang))
			return t->v[i].tmpl;
	return t->v[0].tmpl;
}

void uigw_campaign_get(struct uigw_campaign *c)
{
	if (c)
		c->refcount++;
}

void uigw_campaign_put(struct uigw_campaign *c)
{
	if (!c)
		return;
	/* a campaign fresh from the loader (refcount 0) is freed by a put as well */
	if (c->refcount)
		c->refcount--;
	if (!c->refcount)
		talloc_free(c);
}

struct uigw_campaign *uigw_campaign_set_find(const struct uigw_campaign_set *set, const char *name)
{
	unsigned int i;

	if (!set || !name)
		return NULL;
	for (i = 0; i < set->n; i++)
		if (!strcmp(set->c[i]->name, name))
			return set->c[i];
	return NULL;
}

void uigw_campaign_set_free(struct uigw_campaign_set *set)
{
	unsigned int i;

	if (!set)
		return;
	for (i = 0; i < set->n; i++)
		uigw_campaign_put(set->c[i]);
	set->n = 0;
	talloc_free(set);
}

/* "b.conf:3: <what> is also used by a.conf:5" */
static int clash(char *err, size_t err_len, const struct uigw_campaign *b, unsigned int line_b,
		 const struct uigw_campaign *a, unsigned int line_a, const char *what)
{
	if (err && err_len)
		snprintf(err, err_len, "%s:%u: %s is also used by %s:%u", b->file, line_b ? line_b : 1, what,
			 a->file, line_a ? line_a : 1);
	return -EEXIST;
}

/* Entry points of b that a (loaded before it) uses already. */
static int check_entries(const struct uigw_campaign *a, const struct uigw_campaign *b, char *err, size_t err_len)
{
	const struct uigw_entry *ea = &a->entry, *eb = &b->entry;
	char what[96];
	unsigned int i, j, k, l;

	for (i = 0; i < eb->n_ussd; i++) {
		for (j = 0; j < ea->n_ussd; j++) {
			if (strcmp(eb->ussd[i], ea->ussd[j]))
				continue;
			snprintf(what, sizeof(what), "USSD code %s", eb->ussd[i]);
			return clash(err, err_len, b, eb->ussd_line, a, ea->ussd_line, what);
		}
	}
	for (i = 0; i < eb->n_sip; i++) {
		for (j = 0; j < ea->n_sip; j++) {
			if (strcasecmp(eb->sip[i], ea->sip[j]))
				continue;
			snprintf(what, sizeof(what), "SIP user part %s", eb->sip[i]);
			return clash(err, err_len, b, eb->sip_line, a, ea->sip_line, what);
		}
	}
	for (i = 0; i < eb->n_sms; i++) {
		const struct uigw_sms_entry *sb = &eb->sms[i];

		for (j = 0; j < ea->n_sms; j++) {
			const struct uigw_sms_entry *sa = &ea->sms[j];

			if (strcmp(sb->short_code, sa->short_code))
				continue;
			if (!sb->n_keywords && !sa->n_keywords) {
				snprintf(what, sizeof(what), "short code %s without keyword", sb->short_code);
				return clash(err, err_len, b, sb->line, a, sa->line, what);
			}
			for (k = 0; k < sb->n_keywords; k++) {
				for (l = 0; l < sa->n_keywords; l++) {
					if (strcmp(sb->keywords[k], sa->keywords[l]))
						continue;
					snprintf(what, sizeof(what), "keyword %s to %s", sb->keywords[k],
						 sb->short_code);
					return clash(err, err_len, b, sb->line, a, sa->line, what);
				}
			}
		}
	}
	return 0;
}

static int check_jumps(const struct uigw_campaign_set *set, const struct uigw_campaign *c,
		       const struct uigw_action *acts, unsigned int n, const char *node, char *err, size_t err_len)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct uigw_action *a = &acts[i];
		const char *target;

		if (a->kind != UIGW_ACT_JUMP || !a->subject || a->subject->n_seg != 1)
			continue;
		target = a->subject->seg[0].text;
		if (uigw_campaign_set_find(set, target))
			continue;
		if (err && err_len)
			snprintf(err, err_len, "%s:%u: node '%s': jump to unknown campaign '%s'", c->file,
				 a->line ? a->line : 1, node, target);
		return -ENOENT;
	}
	return 0;
}

/* What spans files: unique names, unique entry points, jump targets. */
static int check_set(const struct uigw_campaign_set *set, char *err, size_t err_len)
{
	unsigned int i, j, k;
	char what[64];
	int rc;

	for (i = 0; i < set->n; i++) {
		const struct uigw_campaign *b = set->c[i];

		for (j = 0; j < i; j++) {
			const struct uigw_campaign *a = set->c[j];

			if (!strcmp(a->name, b->name)) {
				snprintf(what, sizeof(what), "campaign name '%s'", b->name);
				return clash(err, err_len, b, b->name_line, a, a->name_line, what);
			}
			rc = check_entries(a, b, err, err_len);
			if (rc < 0)
				return rc;
		}
	}
	for (i = 0; i < set->n; i++) {
		const struct uigw_campaign *c = set->c[i];

		for (j = 0; j < c->n_nodes; j++) {
			const struct uigw_node *nd = &c->nodes[j];

			rc = check_jumps(set, c, nd->actions, nd->n_actions, nd->id, err, err_len);
			for (k = 0; rc == 0 && k < nd->n_options; k++)
				rc = check_jumps(set, c, nd->options[k].actions, nd->options[k].n_actions, nd->id,
						 err, err_len);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.conf names in dir, sorted. \returns count or negative errno */
static int list_dir(void *ctx, const char *dir, char ***out, char *err, size_t err_len)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL, **n2;
	unsigned int n = 0;
	int rc;

	if (!d) {
		rc = -errno;
		if (err && err_len)
			snprintf(err, err_len, "%s: cannot open folder: %s", dir, strerror(-rc));
		return rc;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".conf"))
			continue;
		n2 = talloc_realloc(ctx, names, char *, n + 1);
		if (!n2 || !(n2[n] = talloc_strdup(n2, de->d_name))) {
			names = n2 ? n2 : names;
			closedir(d);
			if (err && err_len)
				snprintf(err, err_len, "%s: out of memory", dir);
			return -ENOMEM;
		}
		names = n2;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	return n;
}

int uigw_campaign_set_load_dir(void *ctx, const char *dir, const struct uigw_campaign_set *prev,
			       struct uigw_campaign_set **out, char *err, size_t err_len)
{
	struct uigw_campaign_set *set;
	char **names = NULL;
	void *tmp;
	unsigned int i;
	int n, rc;

	*out = NULL;
	set = talloc_zero(ctx, struct uigw_campaign_set);
	if (!set)
		return -ENOMEM;
	tmp = talloc_new(set);
	if (!tmp) {
		rc = -ENOMEM;
		goto fail;
	}
	n = list_dir(tmp, dir, &names, err, err_len);
	if (n < 0) {
		rc = n;
		goto fail;
	}
	if (n && !(set->c = talloc_zero_array(set, struct uigw_campaign *, n))) {
		rc = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < (unsigned int)n; i++) {
		struct uigw_campaign *c;
		char *path = talloc_asprintf(tmp, "%s/%s", dir, names[i]);

		if (!path) {
			rc = -ENOMEM;
			goto fail;
		}
		/* campaigns live under ctx, not under the set: running dialogs may outlive the set */
		rc = uigw_campaign_load_file(ctx, path, &c, err, err_len);
		if (rc < 0)
			goto fail;
		c->refcount = 1;
		set->c[set->n++] = c;
	}
	rc = check_set(set, err, err_len);
	if (rc < 0)
		goto fail;

	for (i = 0; i < set->n; i++) {
		struct uigw_campaign *c = set->c[i];
		const struct uigw_campaign *p = uigw_campaign_set_find(prev, c->name);

		if (p && p->content_hash == c->content_hash)
			c->version = p->version;
		else
			c->version = p ? p->version + 1 : 1;
		LOGP(DCAMP, p && p->version == c->version ? LOGL_DEBUG : LOGL_INFO, "campaign %s version %u (%s)\n",
		     c->name, c->version, c->file);
	}
	talloc_free(tmp);
	LOGP(DCAMP, LOGL_INFO, "%u campaigns loaded from %s\n", set->n, dir);
	*out = set;
	return 0;

fail:
	if (rc == -ENOMEM && err && err_len)
		snprintf(err, err_len, "%s: out of memory", dir);
	uigw_campaign_set_free(set);
	return rc;
}
