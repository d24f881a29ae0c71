/*
 * Lists the tree under argv[1], sorted, one line per entry: the path
 * relative to the root, the type and permission bits, then the size and an
 * FNV-1a hash of the contents for files (read through read(2), and through
 * mmap(2) as a cross-check when small) or the target for symlinks. Run natively on a
 * directory and in airlock on an ext2 image made from it, the output must
 * be the same.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MMAP_MAX (1 << 20) /* bigger files may not fit a small guest */

static char buf[1 << 16];

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static int hash_file(const char *path, off_t size, uint64_t *out)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	uint64_t h = 0xcbf29ce484222325ull;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		h = fnv(h, (unsigned char *)buf, (size_t)n);
	int bad = n < 0;
	if (!bad && size > 0 && size <= MMAP_MAX) {
		unsigned char *m = mmap(0, (size_t)size, PROT_READ, MAP_PRIVATE,
					fd, 0);
		bad = m == MAP_FAILED ||
		      fnv(0xcbf29ce484222325ull, m, (size_t)size) != h;
		if (m != MAP_FAILED)
			munmap(m, (size_t)size);
	}
	close(fd);
	*out = h;
	return bad ? -1 : 0;
}

static int walk(const char *root, const char *rel)
{
	char path[4096];
	struct dirent **names;
	snprintf(path, sizeof(path), "%s%s", root, rel);
	int n = scandir(path, &names, NULL, alphasort), bad = n < 0;
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char sub[4096], full[4096];
		struct stat st;
		if (strcmp(name, ".") && strcmp(name, "..") &&
		    strcmp(name, "lost+found")) {
			snprintf(sub, sizeof(sub), "%s/%s", rel, name);
			snprintf(full, sizeof(full), "%s%s", root, sub);
			if (lstat(full, &st)) {
				printf("%s: lstat failed\n", sub);
				bad = 1;
			} else if (S_ISLNK(st.st_mode)) {
				ssize_t k = readlink(full, buf, sizeof(buf));
				printf("%s l -> %.*s\n", sub, (int)(k > 0 ? k : 0), buf);
			} else if (S_ISDIR(st.st_mode)) {
				printf("%s d %o\n", sub, st.st_mode & 0777);
				bad |= walk(root, sub);
			} else {
				uint64_t h = 0;
				int e = hash_file(full, st.st_size, &h);
				printf("%s f %o %lld %016llx%s\n", sub,
				       st.st_mode & 0777, (long long)st.st_size,
				       (unsigned long long)h, e ? " ERROR" : "");
				bad |= e;
			}
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	return bad;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: tree DIR\n");
		return 2;
	}
	return walk(argv[1], "");
}
