/*! \file pseudonym.c
 *  Keyed subscriber pseudonyms: the store never sees a raw MSISDN except in the operator-only mapping. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <nettle/hmac.h>
#include <osmocom/core/talloc.h>
#include <osmocom/core/utils.h>
#include <osmocom/uigw/common/logging.h>
#include <osmocom/uigw/store/store.h>
#include <osmocom/uigw/core/uigw.h>
#include <osmocom/uigw/core/pseudonym.h>

/* 32 random octets as 64 hex digits: the key a gateway makes for itself */
#define KEY_OCTETS 32

void uigw_pseudonym(const char *secret, const char *msisdn, char out[33])
{
	struct hmac_sha256_ctx ctx;
	uint8_t digest[SHA256_DIGEST_SIZE];
	static const char hex[] = "0123456789abcdef";
	unsigned int i;

	if (!secret)
		secret = "";
	if (!msisdn)
		msisdn = "";
	hmac_sha256_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
	hmac_sha256_update(&ctx, strlen(msisdn), (const uint8_t *)msisdn);
	hmac_sha256_digest(&ctx, sizeof(digest), digest);
	for (i = 0; i < 16; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 0xf];
	}
	out[32] = '\0';
}

void uigw_pseudonym_key_set(struct uigw *gw, const char *secret)
{
	osmo_talloc_replace_string(gw, &gw->pseudonym_key, secret);
}

static int key_make(struct uigw *gw, const char *path)
{
	uint8_t rnd[KEY_OCTETS];
	char *hex;
	int fd, rc = 0;
	size_t len;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -EIO;
	hex = talloc_asprintf(gw, "%s\n", osmo_hexdump_nospc(rnd, sizeof(rnd)));
	if (!hex)
		return -ENOMEM;
	len = strlen(hex);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = -errno;
	} else {
		if (write(fd, hex, len) != (ssize_t)len || fsync(fd) < 0)
			rc = errno ? -errno : -EIO;
		if (close(fd) < 0 && !rc)
			rc = -errno;
		if (rc)
			unlink(path);
	}
	if (!rc) {
		hex[len - 1] = '\0';
		uigw_pseudonym_key_set(gw, hex);
		LOGP(DMAIN, LOGL_NOTICE, "pseudonym key made: %s (keep it with the database: without it every "
		     "subscriber gets a new pseudonym)\n", path);
	}
	talloc_free(hex);
	return rc;
}

static int key_read(struct uigw *gw, const char *path, int fd)
{
	char buf[2 * KEY_OCTETS + 2];
	struct stat st;
	ssize_t n;
	size_t len;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		LOGP(DMAIN, LOGL_ERROR, "pseudonym key %s: not a regular file\n", path);
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		LOGP(DMAIN, LOGL_ERROR, "pseudonym key %s: readable by others (mode %03o); chmod 600 it\n", path,
		     (unsigned int)(st.st_mode & 0777));
		return -EPERM;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (len != 2 * KEY_OCTETS || strspn(buf, "0123456789abcdef") != len) {
		LOGP(DMAIN, LOGL_ERROR, "pseudonym key %s: not %u hex digits\n", path, 2 * KEY_OCTETS);
		return -EINVAL;
	}
	uigw_pseudonym_key_set(gw, buf);
	LOGP(DMAIN, LOGL_INFO, "pseudonym key from %s\n", path);
	return 0;
}

int uigw_pseudonym_key_load(struct uigw *gw, const char *db_path)
{
	uint8_t rnd[KEY_OCTETS];
	char *path;
	int fd, rc;

	if (gw->cfg.pseudonym_secret) {
		if (strlen(gw->cfg.pseudonym_secret) < 16)
			LOGP(DMAIN, LOGL_NOTICE, "pseudonym-secret is shorter than 16 characters: a guessable key "
			     "lets anyone who has the database recompute who the subscribers are\n");
		uigw_pseudonym_key_set(gw, gw->cfg.pseudonym_secret);
		return 0;
	}
	if (!db_path) {
		/* nothing is stored: pseudonyms need only hold for this run */
		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			return -EIO;
		uigw_pseudonym_key_set(gw, osmo_hexdump_nospc(rnd, sizeof(rnd)));
		return 0;
	}
	path = talloc_asprintf(gw, "%s.key", db_path);
	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		rc = key_read(gw, path, fd);
		close(fd);
	} else if (errno == ENOENT) {
		rc = key_make(gw, path);
	} else {
		rc = -errno;
	}
	if (rc < 0)
		LOGP(DMAIN, LOGL_ERROR, "pseudonym key %s: %s\n", path, strerror(-rc));
	talloc_free(path);
	return rc;
}
