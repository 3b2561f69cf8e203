/*! \file sip_alloc.c
 *  The allocator behind libosip2 (osip_set_allocators()): free lists per size class in front of malloc.
 *
 *  libosip2 allocates every header, URI and parameter of every message on its own, and each transaction is one
 *  block of ~15 KB (the osip_transaction_t holds its DNS records inline). glibc serves a block of that size from
 *  its large bins, which first consolidates the fast bins, and returns the top of the heap that such frees leave
 *  free, so that the next ones fault pages in again: under SIP load this was a third of the gateway's CPU
 *  (perf, contrib/bench/sip). Here each block carries its size class in a 16-byte header, a freed block goes on
 *  its class's free list (bounded in bytes per class) and the next allocation of the class takes it back.
 *
 *  The free lists belong to the thread that installed the allocator (the main loop's, where SIP runs); on any
 *  other thread a block goes straight to malloc and back. Under AddressSanitizer a cached block's user area is
 *  poisoned, so a use after free is still reported. */

#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>
#include <time.h>
#include <sys/time.h>

#include <osipparser2/osip_port.h>
#include <osip2/osip.h>

#include <osmocom/uigw/chan/sip.h>

#if defined(__SANITIZE_ADDRESS__)
#define UIGW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UIGW_ASAN 1
#endif
#endif
#ifdef UIGW_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)	ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n)	do { } while (0)
#define UNPOISON(p, n)	do { } while (0)
#endif

/* the header before every block; 16 bytes keep the user area 16-byte aligned like malloc's */
struct blk_hdr {
	struct blk_hdr *next;	/* on a free list */
	uint32_t cls;		/* size class, BIG_CLS: straight from malloc */
	uint32_t size;		/* usable size */
};

/* classes: 16..512 in steps of 16 (32), 640..2048 in steps of 128 (12), one for a transaction */
#define N_SMALL		32
#define N_MID		12
#define TR_CLS		(N_SMALL + N_MID)
#define N_CLS		(TR_CLS + 1)
#define BIG_CLS		0xffffffffu
#define CLS_BYTES	(1u << 20)	/* cached per class */
#define TR_BYTES	(16u << 20)	/* cached transactions */

static struct {
	struct blk_hdr *head[N_CLS];
	uint32_t bytes[N_CLS];
} cache;
static __thread bool owner;	/* the thread whose free lists these are */

static struct uigw_sip_alloc_stats g_stats;	/* of the owner thread */

static size_t tr_size(void)
{
	return (sizeof(osip_transaction_t) + 15) & ~(size_t)15;
}

static uint32_t cls_of(size_t n, size_t *csize)
{
	if (n <= 512) {
		uint32_t c = n ? (uint32_t)((n - 1) / 16) : 0;
		*csize = (c + 1) * 16;
		return c;
	}
	if (n <= 2048) {
		uint32_t c = (uint32_t)((n - 512 - 1) / 128);
		*csize = 512 + (c + 1) * 128;
		return N_SMALL + c;
	}
	if (n <= tr_size() && n > tr_size() - 4096) {
		*csize = tr_size();
		return TR_CLS;
	}
	*csize = n;
	return BIG_CLS;
}

static void *blk_new(size_t n)
{
	size_t csize;
	uint32_t c = cls_of(n, &csize);
	struct blk_hdr *h;

	if (!owner) {
		c = BIG_CLS;
		csize = n;
	}
	if (c != BIG_CLS && cache.head[c]) {
		h = cache.head[c];
		UNPOISON(h + 1, h->size);
		cache.head[c] = h->next;
		cache.bytes[c] -= h->size;
		g_stats.hits++;
		return h + 1;
	}
	if (csize > UINT32_MAX - sizeof(*h))
		return NULL;
	h = malloc(sizeof(*h) + csize);
	if (!h)
		return NULL;
	h->cls = c;
	h->size = (uint32_t)csize;
	if (owner)
		g_stats.misses++;
	return h + 1;
}

static void *a_malloc(size_t n)
{
	return blk_new(n);
}

static void a_free(void *p)
{
	struct blk_hdr *h;
	uint32_t cap;

	if (!p)
		return;
	h = (struct blk_hdr *)p - 1;
	if (h->cls == BIG_CLS || !owner) {
		free(h);
		return;
	}
	cap = h->cls == TR_CLS ? TR_BYTES : CLS_BYTES;
	if (cache.bytes[h->cls] + h->size > cap) {
		free(h);
		return;
	}
	h->next = cache.head[h->cls];
	cache.head[h->cls] = h;
	cache.bytes[h->cls] += h->size;
	/* the user area only: the header's link stays visible to LeakSanitizer */
	POISON(h + 1, h->size);
}

static void *a_realloc(void *p, size_t n)
{
	struct blk_hdr *h;
	void *q;

	if (!p)
		return blk_new(n);
	if (!n) {
		a_free(p);
		return NULL;
	}
	h = (struct blk_hdr *)p - 1;
	if (n <= h->size)
		return p;
	q = blk_new(n);
	if (!q)
		return NULL;
	memcpy(q, p, h->size);
	a_free(p);
	return q;
}

/*! Put the allocator behind libosip2. Call before libosip2 allocates anything (a block allocated before
 *  would be freed here with a header it does not have); later calls do nothing. */
void uigw_sip_alloc_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	owner = true;
	osip_set_allocators(a_malloc, a_realloc, a_free);
}

/*! Give the cached blocks back to malloc (on the owner thread). */
void uigw_sip_alloc_trim(void)
{
	unsigned int c;

	if (!owner)
		return;
	for (c = 0; c < N_CLS; c++) {
		while (cache.head[c]) {
			struct blk_hdr *h = cache.head[c];

			cache.head[c] = h->next;
			UNPOISON(h + 1, h->size);
			free(h);
		}
		cache.bytes[c] = 0;
	}
}

/*! Counters and the cached bytes (for `show sip`). */
void uigw_sip_alloc_stats(struct uigw_sip_alloc_stats *st)
{
	unsigned int c;

	*st = g_stats;
	st->cached_bytes = 0;
	for (c = 0; c < N_CLS; c++)
		st->cached_bytes += cache.bytes[c];
}
