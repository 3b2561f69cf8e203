/*! \file campaign_priv.h
 *  Internal to the campaign loader: the loader state and the libconfig reading helpers (campaign_cfg.c) that the
 *  parser of nodes, actions and campaigns (campaign_load.c) is built from. Every helper reports its error as
 *  "file:line: reason" into the loader state and returns a negative errno. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <libconfig.h>
#include <osmocom/uigw/core/campaign.h>

#define MAX_FILE_SIZE	(1024 * 1024)	/*!< bigger files are refused */
#define MAX_DEPTH	16		/*!< nesting of ( [ { : the format needs 8 */
#define MAX_NODES	200
#define MAX_OPTIONS	30
#define MAX_ACTIONS	16
#define MAX_LANGS	8
#define MAX_PARAMS	32
#define MAX_ENTRIES	16		/*!< per list: ussd codes, sms entries, keywords, sip user parts */
#define NAME_LEN	32

/* Loader state. */
struct ld {
	struct uigw_campaign *c;
	void *tmp;			/* freed at the end of the load */
	const char *fname;
	char *err;
	size_t err_len;
	char where[192];		/* context prefix: "node 'x': option '1': " */
	const char **vars;		/* known variable names */
	unsigned int n_vars;
};

/* character sets of names */
#define LOWER_DIGITS "abcdefghijklmnopqrstuvwxyz0123456789"
#define ALNUM LOWER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

/*! Variables every campaign text can use (NULL-terminated). */
extern const char *const ld_builtin_vars[];

int ld_err(struct ld *ld, const config_setting_t *s, const char *fmt, ...);
int ld_nomem(struct ld *ld);
size_t ld_where_push(struct ld *ld, const char *fmt, ...);
void ld_where_pop(struct ld *ld, size_t old);
bool ld_chars_in(const char *s, const char *set, size_t min, size_t max);
bool ld_valid_ident(const char *s);
bool ld_valid_campaign_name(const char *s);
bool ld_valid_ussd_code(const char *s);
unsigned int ld_edit_distance(const char *a, const char *b);
int ld_check_names(struct ld *ld, const config_setting_t *g, const char *const *names);
int ld_get_str(struct ld *ld, const config_setting_t *g, const char *name, const config_setting_t **sp,
		   const char **out);
int ld_get_bool(struct ld *ld, const config_setting_t *g, const char *name, bool *out);
int ld_get_uint(struct ld *ld, const config_setting_t *g, const char *name, unsigned int min, unsigned int max,
		    unsigned int *out);
int ld_get_group(struct ld *ld, const config_setting_t *g, const char *name, const config_setting_t **out);
int ld_get_group_list(struct ld *ld, const config_setting_t *g, const char *name, unsigned int max,
			  const config_setting_t **out);
int ld_get_strlist(struct ld *ld, void *ctx, const config_setting_t *g, const char *name, unsigned int max,
		       const config_setting_t **sp, char ***out, unsigned int *n_out);
bool ld_var_known(const struct ld *ld, const char *name);
int ld_var_add(struct ld *ld, const char *name);
int ld_compile(struct ld *ld, const config_setting_t *s, const char *what, const char *src,
		   struct uigw_tmpl **out);
int ld_i18n_add(struct ld *ld, const config_setting_t *s, const char *what, struct uigw_i18n *t,
		    const char *lang, const char *src);
int ld_parse_text(struct ld *ld, const config_setting_t *s, const char *what, struct uigw_i18n *out);
int ld_get_text(struct ld *ld, const config_setting_t *g, const char *name, struct uigw_i18n *out);

/* campaign_nodes.c: the graph, called by the loader (campaign_load.c) */

/*! Resolve a node id setting \a name of \a g to its index in \a out. \returns 0 or negative (ld_err()) */
int uigw_ld_node_ref(struct ld *ld, const config_setting_t *g, const char *name, int *out);
/*! First pass over the nodes list: ids and kinds, so that references can be resolved. */
int uigw_ld_collect_nodes(struct ld *ld, const config_setting_t *l);
/*! The `nodes` list of the file: every node, option, label and action. */
int uigw_ld_parse_nodes(struct ld *ld, const config_setting_t *root);
