/*! \file proposal.h
 *  Campaigns proposed by third parties (HTTP API POST /v1/campaigns): validated like any campaign file, kept as
 *  files in <campaigns-dir>/proposed/ (they survive restarts) and out of service until the operator approves
 *  them (VTY `campaign NAME approve`, or POST /v1/campaigns/NAME/approve with an admin key): then the file
 *  moves into the campaigns folder and the campaigns are reloaded. A rejected one moves to rejected/. */
#pragma once

#include <stdint.h>
#include <stddef.h>
#include <osmocom/core/linuxlist.h>

struct uigw;
struct uigw_campaign;

struct uigw_proposal {
	struct llist_head list;		/*!< in gw->proposals */
	struct uigw_campaign *camp;	/*!< parsed (its owner is the proposing tenant) */
	char *path;			/*!< its file in proposed/ */
	int64_t created_ms;		/*!< the file's modification time */
};

/*! Load the proposals of <campaigns-dir>/proposed/ (uigw_start() does). Files that do not load are logged and
 *  left alone. \returns the number loaded */
int uigw_proposals_load(struct uigw *gw);
/*! \returns the proposal of that campaign name, or NULL */
struct uigw_proposal *uigw_proposal_find(struct uigw *gw, const char *name);
/*! Add a proposal from campaign text (libconfig) that was validated into \a c (uigw_campaign_load_string();
 *  taken over: freed on error). The name must be free among the campaigns in service and the proposals.
 *  \returns 0, -EEXIST (name taken; err says by what), -EIO (the file could not be written) */
int uigw_proposal_add(struct uigw *gw, const char *text, struct uigw_campaign *c, struct uigw_proposal **out,
		      char *err, size_t err_len);
/*! Approve: the file moves into the campaigns folder and the campaigns are reloaded; if the reload fails (an
 *  entry point another campaign uses, ...) the file moves back. \returns 0, -ENOENT, -EEXIST, or the reload's
 *  error with the reason in err */
int uigw_proposal_approve(struct uigw *gw, const char *name, char *err, size_t err_len);
/*! Reject: the file moves to rejected/. \returns 0, -ENOENT, -EIO */
int uigw_proposal_reject(struct uigw *gw, const char *name);
/*! Drop every proposal from memory (shutdown). */
void uigw_proposals_free(struct uigw *gw);
