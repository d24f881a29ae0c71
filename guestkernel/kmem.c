/* Pages and small objects for the file system; see kmem.h. */
#include "kmem.h"

#define CHUNK_BYTES (256u * 1024u) /* job memory taken per grow */
#define BOOT_PAGES 16              /* enough for the boot-time tree */
#define NCLASS 7                   /* objects of 32 .. 2048 bytes */
#define MIN_SHIFT 5

struct free_node {
	struct free_node *next;
};

static uint8_t boot_arena[BOOT_PAGES * AL_PAGE_SIZE]
	__attribute__((aligned(AL_PAGE_SIZE)));
static uint64_t carve_next = (uint64_t)(uintptr_t)boot_arena;
static uint64_t carve_end =
	(uint64_t)(uintptr_t)boot_arena + sizeof(boot_arena);
static struct free_node *free_pages;
static struct free_node *free_objs[NCLASS];

void *kpage_alloc(void)
{
	if (free_pages) {
		struct free_node *p = free_pages;
		free_pages = p->next;
		gk_zero(p, AL_PAGE_SIZE);
		return p;
	}
	if (carve_next == carve_end) {
		uint64_t a = mm_kernel_grow(CHUNK_BYTES);
		if (!a)
			return NULL;
		carve_next = a;
		carve_end = a + CHUNK_BYTES;
	}
	void *p = (void *)(uintptr_t)carve_next; /* fresh: already zero */
	carve_next += AL_PAGE_SIZE;
	return p;
}

void kpage_free(void *page)
{
	struct free_node *p = page;
	p->next = free_pages;
	free_pages = p;
}

/* Each object starts with a word holding its size class. */
static unsigned class_of(size_t size)
{
	unsigned c = 0;
	while (((size_t)1 << (c + MIN_SHIFT)) < size + 8)
		c++;
	return c;
}

/* Objects never handed out yet are cut from one page per class as they
 * are needed: no up-front loop, and they are still zero. */
static uint8_t *bump_next[NCLASS], *bump_end[NCLASS];

static uint64_t *fresh_obj(unsigned c)
{
	size_t sz = (size_t)1 << (c + MIN_SHIFT);
	if (bump_next[c] == bump_end[c]) {
		uint8_t *page = kpage_alloc();
		if (!page)
			return NULL;
		bump_next[c] = page;
		bump_end[c] = page + AL_PAGE_SIZE;
	}
	uint64_t *obj = (uint64_t *)bump_next[c];
	bump_next[c] += sz;
	return obj;
}

void *kmalloc(size_t size)
{
	if (size > KMEM_MAX_OBJ)
		gk_panic("kmalloc of %u bytes", (uint64_t)size);
	unsigned c = class_of(size);
	uint64_t *obj;
	if (free_objs[c]) {
		obj = (uint64_t *)free_objs[c];
		free_objs[c] = free_objs[c]->next;
		gk_zero(obj, (size_t)1 << (c + MIN_SHIFT));
	} else if (!(obj = fresh_obj(c))) {
		return NULL;
	}
	obj[0] = c;
	return obj + 1;
}

void kfree(void *p)
{
	if (!p)
		return;
	uint64_t *obj = (uint64_t *)p - 1;
	unsigned c = (unsigned)obj[0];
	struct free_node *n = (struct free_node *)obj;
	n->next = free_objs[c];
	free_objs[c] = n;
}
