/*! \file campaign.h
 *  Campaigns: immutable interaction graphs loaded from libconfig files (see doc/campaigns.md). */
#pragma once

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <osmocom/uigw/common/channel.h>
#include <osmocom/uigw/store/query.h>

struct rate_ctr_group;

/*! Navigation keys the engine reserves on every screen (option keys may not use them). */
#define UIGW_KEY_BACK	"0"
#define UIGW_KEY_MORE	"00"
#define UIGW_KEY_HOME	"#"

/*! A text in several languages: v[0] is the campaign's default language. */
struct uigw_i18n {
	unsigned int n;
	struct uigw_i18n_str {
		char lang[8];			/*!< ISO 639-1 ("en") */
		struct uigw_tmpl *tmpl;		/*!< compiled text */
	} *v;
};

/*! A compiled text template: literal runs and ${...} substitutions. */
struct uigw_tmpl {
	const char *src;		/*!< as written in the file */
	unsigned int n_seg;
	struct uigw_tmpl_seg {
		enum uigw_seg_kind {
			UIGW_SEG_LIT,	/*!< literal UTF-8 text in .text */
			UIGW_SEG_VAR,	/*!< ${name}: a dialog variable (answer, parameter, builtin) */
			UIGW_SEG_QUERY,	/*!< ${func(arg)}: a store query */
		} kind;
		const char *text;	/*!< LIT: the text; VAR: variable name; QUERY: argument (variable name or
					 *   literal, see arg_is_literal) */
		enum uigw_query query;	/*!< QUERY only */
		bool arg_is_literal;	/*!< QUERY: argument was "quoted" in the file */
	} *seg;
	unsigned int n_queries;		/*!< number of QUERY segments */
};

enum uigw_node_kind {
	UIGW_NODE_MENU,		/*!< navigation: options lead to other nodes; records nothing by default */
	UIGW_NODE_CHOICE,	/*!< single-choice question: the chosen option's value is recorded */
	UIGW_NODE_RATING,	/*!< rating 1..scale, optional labels per value */
	UIGW_NODE_YESNO,	/*!< yes/no question: canonical values "yes"/"no" */
	UIGW_NODE_NUMBER,	/*!< E.164 number input, normalised to international form */
	UIGW_NODE_TEXT,		/*!< free text, at most max_len characters */
	UIGW_NODE_INFO,		/*!< shows text; with next: any input continues; without next: ends */
};
extern const struct value_string uigw_node_kind_names[];	/*!< "menu","choice","rating","yesno","number","text","info" */

enum uigw_action_kind {
	UIGW_ACT_RECORD,	/*!< record a response with value (template) for question (subject) */
	UIGW_ACT_SPAM_REPORT,	/*!< subject: number (template, normalised E.164) */
	UIGW_ACT_REACTION,	/*!< reaction on content subject (template) */
	UIGW_ACT_APP_RATING,	/*!< subject: app id (template); value: rating (template, integer) */
	UIGW_ACT_FLAG,		/*!< subject: content id; value: reason (template) */
	UIGW_ACT_JUMP,		/*!< subject: campaign name; the dialog continues at that campaign's start */
	UIGW_ACT_OFFER,		/*!< subject: service name; value: URI; text: handed to the user */
	UIGW_ACT_OPTOUT,	/*!< the subscriber opts out of network-initiated interactions on every channel (scope: of
				 *   one campaign or tenant, the subject) */
	UIGW_ACT_OPTIN,		/*!< ... back in (scope NONE: into everything) */
};
extern const struct value_string uigw_action_kind_names[];
extern const struct value_string uigw_roaming_policy_names[];	/*!< "gateway","allow","deny","notice-only" */	/*!< "record","spam_report","reaction","app_rating","flag","jump","offer","optout","optin" */

enum uigw_reaction {
	UIGW_REACT_LIKE,
	UIGW_REACT_DISLIKE,
	UIGW_REACT_SUBSCRIBE,
};
extern const struct value_string uigw_reaction_names[];	/*!< "like","dislike","subscribe" */

struct uigw_action {
	enum uigw_action_kind kind;
	enum uigw_reaction reaction;	/*!< REACTION */
	struct uigw_tmpl *subject;	/*!< see enum uigw_action_kind; NULL where unused */
	struct uigw_tmpl *value;	/*!< see enum uigw_action_kind; NULL where unused */
	struct uigw_i18n text;		/*!< OFFER: text shown to the user (n == 0 elsewhere) */
	enum uigw_optout_scope {
		UIGW_SCOPE_ALL,		/*!< every push */
		UIGW_SCOPE_CAMPAIGN,	/*!< the campaign named by subject */
		UIGW_SCOPE_TENANT,	/*!< the campaigns of the tenant named by subject */
	} scope;			/*!< OPTOUT, OPTIN */
	unsigned int line;		/*!< line in the campaign file (for messages) */
};

struct uigw_option {
	const char *key;		/*!< what the user types: "1" */
	struct uigw_i18n label;
	const char *value;		/*!< CHOICE: canonical value recorded (default: key) */
	int next;			/*!< node index, or -1: the node's own next */
	struct uigw_action *actions;	/*!< run when this option is chosen */
	unsigned int n_actions;
};

struct uigw_node {
	const char *id;			/*!< unique within the campaign */
	enum uigw_node_kind kind;
	struct uigw_i18n text;		/*!< prompt / header / info text */
	struct uigw_option *options;	/*!< MENU, CHOICE (RATING and YESNO get none: the engine builds them) */
	unsigned int n_options;
	unsigned int scale;		/*!< RATING: 1..scale (2..10) */
	struct uigw_i18n *scale_labels;	/*!< RATING: scale entries or NULL (then the digits are the labels) */
	unsigned int max_len;		/*!< TEXT: maximum characters (default 160) */
	const char *var;		/*!< variable the answer is stored in (default: id) */
	const char *question;		/*!< question key in the feedback store (default: id) */
	bool record;			/*!< store a response row for the answer (default: true for questions,
					 *   false for menu and info) */
	int next;			/*!< node index after this one, -1 = end of dialog */
	int yes, no;			/*!< YESNO: node index per answer (default: next) */
	struct uigw_action *actions;	/*!< questions: run after a valid answer; menu/info: run on entry */
	unsigned int n_actions;
};

/*! Entry points of one campaign. */
struct uigw_entry {
	char **ussd;		/*!< service codes "*7726#" */
	unsigned int n_ussd;
	struct uigw_sms_entry {
		const char *short_code;	/*!< "7726" */
		char **keywords;	/*!< upper-cased; first is the main keyword, the rest aliases */
		unsigned int n_keywords;
		int start;		/*!< node index to start at, -1: the campaign's start */
		unsigned int line;	/*!< line in the campaign file (for messages) */
	} *sms;
	unsigned int n_sms;
	char **sip;		/*!< SIP Request-URI user parts ("7726"), matched with any host */
	unsigned int n_sip;
	unsigned int ussd_line, sip_line;	/*!< lines of the lists in the campaign file (for messages) */
};

/*! Texts the engine shows around the campaign's own (all optional, English defaults). */
struct uigw_labels {
	struct uigw_i18n more, back, home, invalid, yes, no, resumed, goodbye;
	struct uigw_i18n invalid_number;	/*!< a number input that is not an E.164 number */
	struct uigw_i18n invalid_rating;	/*!< a rating out of range (default "Please answer 1-N.") */
	struct uigw_i18n too_long;		/*!< a text answer over max_len (default names the limit) */
	struct uigw_i18n too_many;		/*!< the last text after invalid-input-retries invalid answers */
	struct uigw_i18n error;			/*!< the last text when the answer could not be stored */
	struct uigw_i18n unavailable;		/*!< a dialog the campaign refuses (disabled, channel, network only) */
};

struct uigw_campaign {
	const char *name;		/*!< unique, [a-z0-9_-]{1,32} */
	unsigned int version;		/*!< set by the caller of the loader (see uigw_campaign_set) */
	uint64_t content_hash;		/*!< hash of the file's bytes, to tell whether a reload changed it */
	struct rate_ctr_group *ctrs;	/*!< its group "uigw:campaign" (the gateway's, one per name for every
					 *   version), looked up at its first counted event (uigw_count) */
	const char *file;		/*!< path it was loaded from */
	const char *owner;		/*!< API tenant that owns it (field `owner`), NULL: the operator */
	const char *ext_url;		/*!< the campaign of an external application's route (core/extapp.h): its URL */
	const char *ext_code;		/*!< ... the route's prefix (the serviceCode it is told) */
	unsigned int ext_timeout_ms;	/*!< ... how long a step may take */
	struct uigw_i18n title;
	char **languages;		/*!< languages offered; [0] = default */
	unsigned int n_languages;
	uint32_t channels;		/*!< allowed channels, bit (1 << enum uigw_channel) */
	uint8_t chan_order[_UIGW_CHAN_NUM];	/*!< the allowed channels in the file's order (a trigger without
						 *   `via` takes the first that reaches the subscriber) */
	uint8_t n_chan_order;
	bool network_only;		/*!< only network-initiated dialogs */
	/*! roaming = "allow" | "deny" | "notice-only" for subscribers the channel (or their last dialog) says are
	 *  roaming; absent: node uigw's roaming-policy */
	enum uigw_roaming_policy {
		UIGW_ROAM_GATEWAY,	/*!< the gateway's default */
		UIGW_ROAM_ALLOW,
		UIGW_ROAM_DENY,		/*!< refused (roaming), theirs and pushed */
		UIGW_ROAM_NOTICE_ONLY,	/*!< told, never asked: a push goes out only as a notice (the campaign
					 *   starts with an info node); what they begin themselves runs */
	} roaming;
	bool zero_rated;		/*!< charging.zero_rated: its dialogs are free for the subscriber */
	/* quiet_hours = { from = "21:00"; to = "08:00"; action = "defer"; } or false (none, not the gateway's) */
	enum { UIGW_QUIET_GATEWAY, UIGW_QUIET_OWN, UIGW_QUIET_NONE } quiet;
	int16_t quiet_from, quiet_to;	/*!< minutes of the day (UIGW_QUIET_OWN) */
	bool quiet_refuse;
	unsigned int pacing;		/*!< pushes per second at most (0: no pacing) */
	int64_t pace_next_us;		/*!< the next free slot (wall clock, us); carried over a reload */
	const char *charge_class;	/*!< charging.class, NULL: "standard" */
	bool enabled;			/*!< from the file (default true); the VTY may override in the set */
	unsigned int push_cap_count;	/*!< at most this many pushes of this campaign per subscriber... */
	unsigned int push_cap_per;	/*!< ...within this many seconds (0: no cap of its own) */
	struct uigw_entry entry;
	struct uigw_param {
		const char *name;
		const char *def;	/*!< default value when the trigger does not pass it (may be "") */
	} *params;
	unsigned int n_params;
	/*! Network events that start the campaign (field `on_event`, doc/campaigns.md): each a type, conditions on
	 *  the event's parameters, a sampling ratio and where the campaign's parameters come from. */
	struct uigw_on_event {
		const char *type;		/*!< "call-ended", "crs-played", ... or a custom type */
		double sample;			/*!< 0..1: the share of matching events that start it (default 1) */
		unsigned int n_min;
		struct { const char *name; double min; } *min;	/*!< numeric parameters at least this */
		unsigned int n_equals;
		struct { const char *name, *value; } *equals;	/*!< parameters exactly this */
		unsigned int n_map;
		struct { const char *param, *from; } *map;	/*!< campaign parameter <- event parameter; the
								 *   campaign's parameters not named here come from
								 *   event parameters of the same name */
	} *on_event;
	unsigned int n_on_event;
	struct uigw_labels labels;
	struct uigw_node *nodes;
	unsigned int n_nodes;
	int start;			/*!< index of the start node */
	unsigned int refcount;		/*!< dialogs running on this version (+1 while in a set) */
	unsigned int name_line;		/*!< line of 'name' in the file (for messages) */
};

/*! Parse and validate one campaign file. Every problem is reported as "file:line: reason".
 *  \param[in] ctx      talloc parent of the result (one talloc tree per campaign)
 *  \param[in] path     file to read
 *  \param[out] out     the campaign (refcount 0, version 0)
 *  \param[out] err     message on failure
 *  \returns 0 or negative errno */
int uigw_campaign_load_file(void *ctx, const char *path, struct uigw_campaign **out, char *err, size_t err_len);
/*! Parse and validate campaign text from memory (same rules; used by tests and the fuzzer).
 *  \param[in] name_for_errors  shown in place of the file name in messages */
int uigw_campaign_load_string(void *ctx, const char *text, const char *name_for_errors,
			      struct uigw_campaign **out, char *err, size_t err_len);

/*! All campaigns in service. */
struct uigw_campaign_set {
	struct uigw_campaign **c;
	unsigned int n;
};

/*! Load every *.conf file of a folder (sorted by name) into a new set, and check what spans files: unique
 *  names, no entry point used twice, jump targets exist. Versions: a campaign whose content_hash equals that of
 *  the same name in \a prev keeps its version, otherwise gets prev's version + 1 (1 if new).
 *  \param[in] prev  the set in service, or NULL
 *  \returns 0 or negative errno with "file:line: reason" in err */
int uigw_campaign_set_load_dir(void *ctx, const char *dir, const struct uigw_campaign_set *prev,
			       struct uigw_campaign_set **out, char *err, size_t err_len);
/*! Drop the set's reference on each campaign (campaigns used by running dialogs live on) and free the set. */
void uigw_campaign_set_free(struct uigw_campaign_set *set);
/*! \returns the campaign of that name in the set, or NULL */
struct uigw_campaign *uigw_campaign_set_find(const struct uigw_campaign_set *set, const char *name);

/*! Take a reference (a dialog starts on this version). */
void uigw_campaign_get(struct uigw_campaign *c);
/*! Drop a reference; frees the campaign when the last one goes. */
void uigw_campaign_put(struct uigw_campaign *c);

/*! \returns the node index for an id, or -1 */
int uigw_campaign_node_idx(const struct uigw_campaign *c, const char *id);
/*! Text of \a t in language \a lang, falling back to the default language. \returns NULL if t has none */
const struct uigw_tmpl *uigw_i18n_get(const struct uigw_i18n *t, const char *lang);

/*! Compile a template ("Reported by ${spam_reports(number)} users").
 *  \returns 0, or -EINVAL with the reason in err (unbalanced ${, unknown function, bad argument) */
int uigw_tmpl_compile(void *ctx, const char *src, struct uigw_tmpl **out, char *err, size_t err_len);
