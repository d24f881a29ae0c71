/*
 * Kernel memory for the file system: whole pages (file data, pipe buffers,
 * page-index nodes) and small objects (inodes, directory entries, open
 * files). Before the job starts, pages come from a static arena (so the
 * boot-time tree is part of the pristine snapshot); afterwards from free job
 * memory, in chunks (mm_kernel_grow). Freed pages and objects are kept on
 * free lists for reuse, never returned to the job.
 */
#ifndef GK_KMEM_H
#define GK_KMEM_H

#include "gk.h"

/* A zeroed page, or NULL when memory for files is exhausted. */
void *kpage_alloc(void);
void kpage_free(void *page);
/* A zeroed object of size bytes (at most KMEM_MAX_OBJ), or NULL. */
#define KMEM_MAX_OBJ 2040u
void *kmalloc(size_t size);
void kfree(void *obj);

#endif
