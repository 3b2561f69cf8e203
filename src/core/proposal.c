/*! \file proposal.c
 *  Proposed campaigns (core/proposal.h): files in <campaigns-dir>/proposed/, approved into the campaigns folder.
 *  Writes go to a temporary file renamed into place, so a crash leaves the old file or the new one. */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <osmocom/core/logging.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/clock.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/campaign.h>
#include <osmocom/uigw/core/proposal.h>

static char *sub_path(void *ctx, struct uigw *gw, const char *sub, const char *name)
{
	if (!name)
		return talloc_asprintf(ctx, "%s/%s", gw->cfg.campaigns_dir, sub);
	return talloc_asprintf(ctx, "%s/%s/%s.conf", gw->cfg.campaigns_dir, sub, name);
}

static void proposal_free(struct uigw_proposal *p)
{
	llist_del(&p->list);
	uigw_campaign_put(p->camp);
	talloc_free(p);
}

static struct uigw_proposal *proposal_new(struct uigw *gw, struct uigw_campaign *c, const char *path, int64_t ms)
{
	struct uigw_proposal *p = talloc_zero(gw, struct uigw_proposal);

	if (!p)
		return NULL;
	p->camp = c;
	uigw_campaign_get(c);
	p->path = talloc_strdup(p, path);
	p->created_ms = ms;
	llist_add_tail(&p->list, &gw->proposals);
	return p;
}

struct uigw_proposal *uigw_proposal_find(struct uigw *gw, const char *name)
{
	struct uigw_proposal *p;

	llist_for_each_entry(p, &gw->proposals, list)
		if (!strcmp(p->camp->name, name))
			return p;
	return NULL;
}

int uigw_proposals_load(struct uigw *gw)
{
	char *dir = sub_path(gw, gw, "proposed", NULL);
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d) {
		talloc_free(dir);
		return 0;
	}
	while ((de = readdir(d))) {
		struct uigw_campaign *c = NULL;
		char err[256], *path;
		struct stat st;
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".conf"))
			continue;
		path = talloc_asprintf(dir, "%s/%s", dir, de->d_name);
		if (uigw_campaign_load_file(gw, path, &c, err, sizeof(err)) < 0) {
			LOGP(DCAMP, LOGL_ERROR, "proposal %s not loaded: %s\n", path, err);
			continue;
		}
		if (uigw_proposal_find(gw, c->name) || uigw_campaign_set_find(gw->campaigns, c->name)) {
			LOGP(DCAMP, LOGL_ERROR, "proposal %s: campaign name %s is taken, ignored\n", path, c->name);
			uigw_campaign_put(c);
			continue;
		}
		c->version = 0;
		if (stat(path, &st) < 0)
			st.st_mtime = 0;
		if (proposal_new(gw, c, path, (int64_t)st.st_mtime * 1000))
			n++;
		else
			uigw_campaign_put(c);
	}
	closedir(d);
	talloc_free(dir);
	if (n)
		LOGP(DCAMP, LOGL_NOTICE, "%d proposed campaigns wait for approval\n", n);
	return n;
}

static int write_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	ok = fputs(text, f) >= 0;
	ok = fflush(f) == 0 && ok;
	ok = fsync(fileno(f)) == 0 && ok;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

int uigw_proposal_add(struct uigw *gw, const char *text, struct uigw_campaign *c, struct uigw_proposal **out,
		      char *err, size_t err_len)
{
	void *tmp = talloc_new(gw);
	char *dir = sub_path(tmp, gw, "proposed", NULL), *path;
	struct uigw_proposal *p;
	int rc;

	if (uigw_campaign_set_find(gw->campaigns, c->name) || uigw_proposal_find(gw, c->name)) {
		snprintf(err, err_len, "a campaign named %s exists%s", c->name,
			 uigw_proposal_find(gw, c->name) ? " (proposed)" : "");
		rc = -EEXIST;
		goto out;
	}
	path = sub_path(tmp, gw, "proposed", c->name);
	if (!dir || !path || (mkdir(dir, 0750) < 0 && errno != EEXIST)) {
		snprintf(err, err_len, "cannot create %s", dir ? dir : "the proposals folder");
		rc = -EIO;
		goto out;
	}
	rc = write_file(path, text);
	if (rc < 0) {
		snprintf(err, err_len, "cannot write %s", path);
		goto out;
	}
	p = proposal_new(gw, c, path, uigw_wall_ms());
	if (!p) {
		unlink(path);
		rc = -ENOMEM;
		goto out;
	}
	LOGP(DCAMP, LOGL_NOTICE, "campaign %s proposed by %s: waits for approval (%s)\n", c->name,
	     c->owner ? c->owner : "the operator", path);
	if (out)
		*out = p;
	rc = 0;
out:
	if (rc < 0)
		uigw_campaign_put(c);	/* fresh from the loader: freed */
	talloc_free(tmp);
	return rc;
}

int uigw_proposal_approve(struct uigw *gw, const char *name, char *err, size_t err_len)
{
	struct uigw_proposal *p = uigw_proposal_find(gw, name);
	char *dst;
	int rc;

	if (!p) {
		snprintf(err, err_len, "no proposed campaign %s", name);
		return -ENOENT;
	}
	dst = talloc_asprintf(p, "%s/%s.conf", gw->cfg.campaigns_dir, name);
	if (!dst)
		return -ENOMEM;
	if (access(dst, F_OK) == 0) {
		snprintf(err, err_len, "%s exists", dst);
		talloc_free(dst);
		return -EEXIST;
	}
	if (rename(p->path, dst) < 0) {
		snprintf(err, err_len, "cannot move %s to %s: %s", p->path, dst, strerror(errno));
		talloc_free(dst);
		return -EIO;
	}
	rc = uigw_campaigns_reload(gw, err, err_len);
	if (rc < 0) {
		/* the set in service stays as it was; the proposal stays proposed */
		if (rename(dst, p->path) < 0)
			LOGP(DCAMP, LOGL_ERROR, "cannot move %s back to %s\n", dst, p->path);
		talloc_free(dst);
		return rc;
	}
	LOGP(DCAMP, LOGL_NOTICE, "proposed campaign %s approved: in service (%s)\n", name, dst);
	talloc_free(dst);
	proposal_free(p);
	return 0;
}

int uigw_proposal_reject(struct uigw *gw, const char *name)
{
	struct uigw_proposal *p = uigw_proposal_find(gw, name);
	char *dir, *dst;
	int rc = 0;

	if (!p)
		return -ENOENT;
	dir = sub_path(p, gw, "rejected", NULL);
	dst = sub_path(p, gw, "rejected", name);
	if (!dir || !dst || (mkdir(dir, 0750) < 0 && errno != EEXIST) || rename(p->path, dst) < 0) {
		LOGP(DCAMP, LOGL_ERROR, "cannot move %s to the rejected folder: the file is deleted\n", p->path);
		if (unlink(p->path) < 0)
			rc = -EIO;
	}
	LOGP(DCAMP, LOGL_NOTICE, "proposed campaign %s rejected\n", name);
	proposal_free(p);
	return rc;
}

void uigw_proposals_free(struct uigw *gw)
{
	struct uigw_proposal *p, *tmp;

	llist_for_each_entry_safe(p, tmp, &gw->proposals, list)
		proposal_free(p);
}
