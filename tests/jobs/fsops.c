/*
 * File-system syscalls, each group with its error paths, checked against
 * what Linux does: the same binary passes natively (integration tests run it
 * on the host too) and inside airlock. Works under the directory in argv[1];
 * prints one line per failed check and exits with the number of failures.
 * With "fill" as argv[2], fills the file system until ENOSPC instead; with
 * "ro", checks that DIR is a read-only drive.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

/* Linux reports O_LARGEFILE in F_GETFL; glibc defines it as 0. */
#define LARGEFILE 0100000

static int failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			printf("FAIL %s:%d: %s (errno %d)\n", __func__,        \
			       __LINE__, #cond, errno);                        \
			failures++;                                            \
		}                                                              \
	} while (0)
/* A call that must fail with errno e. */
#define FAILS(call, e) CHECK((call) == -1 && errno == (e))

static void put(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

static void files(void)
{
	char buf[64] = {0};
	int fd = open("f", O_CREAT | O_RDWR | O_EXCL, 0600);
	CHECK(fd >= 0);
	FAILS(open("f", O_CREAT | O_EXCL | O_RDWR, 0600), EEXIST);
	CHECK(write(fd, "hello world", 11) == 11);
	CHECK(lseek(fd, 0, SEEK_CUR) == 11);
	CHECK(lseek(fd, 6, SEEK_SET) == 6);
	CHECK(read(fd, buf, sizeof(buf)) == 5 && !memcmp(buf, "world", 5));
	CHECK(read(fd, buf, sizeof(buf)) == 0);
	CHECK(pwrite(fd, "W", 1, 6) == 1);
	CHECK(pread(fd, buf, 5, 6) == 5 && !memcmp(buf, "World", 5));
	CHECK(lseek(fd, 0, SEEK_END) == 11);
	FAILS(lseek(fd, -20, SEEK_CUR), EINVAL);
	FAILS(pread(fd, buf, 1, -1), EINVAL);
	struct iovec iov[2] = {{"ab", 2}, {"cd", 2}};
	CHECK(writev(fd, iov, 2) == 4);
	char x[3] = {0}, y[20] = {0};
	struct iovec in[2] = {{x, 2}, {y, sizeof(y)}};
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK(readv(fd, in, 2) == 15 && !memcmp(x, "he", 2) &&
	      !memcmp(y, "llo Worldabcd", 13));
	struct stat st;
	CHECK(fstat(fd, &st) == 0 && st.st_size == 15 && S_ISREG(st.st_mode));
	CHECK((st.st_mode & 0777) == 0600 && st.st_nlink == 1);
	CHECK(ftruncate(fd, 5) == 0 && fstat(fd, &st) == 0 && st.st_size == 5);
	/* A write past the end leaves a hole of zeroes. */
	CHECK(pwrite(fd, "Z", 1, 9000) == 1);
	memset(buf, 1, sizeof(buf));
	CHECK(pread(fd, buf, 8, 4) == 8 && buf[0] == 'o' && buf[1] == 0 &&
	      buf[7] == 0);
	FAILS(ftruncate(fd, -1), EINVAL);
	CHECK(fsync(fd) == 0 && fdatasync(fd) == 0);
	CHECK(close(fd) == 0);
	FAILS(close(fd), EBADF);
	FAILS(read(fd, buf, 1), EBADF);

	fd = open("f", O_WRONLY | O_APPEND);
	CHECK(fd >= 0);
	FAILS(read(fd, buf, 1), EBADF);
	CHECK(write(fd, "!", 1) == 1);
	CHECK(fstat(fd, &st) == 0 && st.st_size == 9002);
	CHECK((fcntl(fd, F_GETFL) & ~LARGEFILE) == (O_WRONLY | O_APPEND));
	close(fd);
	fd = open("f", O_RDONLY);
	FAILS(write(fd, "x", 1), EBADF);
	void *volatile bad = (void *)8;
	FAILS(read(fd, bad, 4), EFAULT);
	close(fd);
	FAILS(open("missing", O_RDONLY), ENOENT);
	FAILS(open("f/x", O_RDONLY), ENOTDIR);
	FAILS(open("f", O_RDONLY | O_DIRECTORY), ENOTDIR);
	FAILS(open(".", O_WRONLY), EISDIR);
	FAILS(open((const char *)8, O_RDONLY), EFAULT);
	FAILS(open("", O_RDONLY), ENOENT);
	CHECK(truncate("f", 3) == 0 && stat("f", &st) == 0 && st.st_size == 3);
	fd = open("f", O_RDWR | O_TRUNC);
	CHECK(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0);
	close(fd);
	fd = creat("c", 0644);
	CHECK(fd >= 0 && (fcntl(fd, F_GETFL) & ~LARGEFILE) == O_WRONLY);
	close(fd);
}

static void big_file(void)
{
	size_t len = 3u << 20; /* past one index page of the tmpfs tree */
	unsigned char *p = malloc(len), *q = malloc(len);
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 31 + (i >> 12));
	int fd = open("big", O_CREAT | O_RDWR | O_TRUNC, 0644);
	CHECK(write(fd, p, len) == (ssize_t)len);
	CHECK(pread(fd, q, len, 0) == (ssize_t)len && !memcmp(p, q, len));
	/* mmap of the file: a private copy. */
	unsigned char *m = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
				fd, 0);
	CHECK(m != MAP_FAILED && !memcmp(m, p, len));
	m[0] ^= 1;
	CHECK(pread(fd, q, 1, 0) == 1 && q[0] == p[0]);
	munmap(m, len);
	m = mmap(0, 8192, PROT_READ, MAP_SHARED, fd, 4096);
	CHECK(m != MAP_FAILED && !memcmp(m, p + 4096, 8192));
	munmap(m, 8192);
	FAILS((long)mmap(0, 4096, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL);
	FAILS((long)mmap(0, 4096, PROT_READ, MAP_PRIVATE, 999, 0), EBADF);
	close(fd);
	CHECK(unlink("big") == 0);
	free(p);
	free(q);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory path, sorted and joined by spaces. */
static void list(const char *path, char *out, size_t size)
{
	char buf[1024], *names[64];
	int n = 0, fd = open(path, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0);
	long got;
	while ((got = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0)
		for (long off = 0; off < got;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			if (n < 64)
				names[n++] = strdup(d->d_name);
			off += d->d_reclen;
		}
	CHECK(got == 0);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	FAILS(syscall(SYS_getdents64, fd, buf, 8), EINVAL);
	close(fd);
	qsort(names, (size_t)n, sizeof(*names), cmp);
	out[0] = 0;
	for (int i = 0; i < n; i++) {
		snprintf(out + strlen(out), size - strlen(out), "%s%s",
			 i ? " " : "", names[i]);
		free(names[i]);
	}
}

static void dirs(void)
{
	char names[512];
	CHECK(mkdir("d", 0755) == 0);
	FAILS(mkdir("d", 0755), EEXIST);
	FAILS(mkdir("nope/d", 0755), ENOENT);
	CHECK(mkdir("d/sub", 0700) == 0);
	put("d/a", "A");
	put("d/b", "B");
	list("d", names, sizeof(names));
	CHECK(!strcmp(names, ". .. a b sub"));
	FAILS(rmdir("d"), ENOTEMPTY);
	FAILS(rmdir("d/a"), ENOTDIR);
	FAILS(unlink("d/sub"), EISDIR);
	FAILS(unlink("d/none"), ENOENT);
	CHECK(unlink("d/a") == 0);
	FAILS(unlink("d/a"), ENOENT);
	CHECK(rmdir("d/sub") == 0);
	CHECK(unlinkat(AT_FDCWD, "d/b", 0) == 0);
	struct stat st;
	CHECK(stat("d", &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink == 2);
	CHECK(unlinkat(AT_FDCWD, "d", AT_REMOVEDIR) == 0);
	FAILS(stat("d", &st), ENOENT);
	/* An open file outlives its name. */
	put("gone", "still here");
	int fd = open("gone", O_RDONLY);
	CHECK(unlink("gone") == 0);
	char buf[16] = {0};
	CHECK(read(fd, buf, sizeof(buf)) == 10 && !strcmp(buf, "still here"));
	close(fd);
}

static void renames(void)
{
	char buf[8] = {0};
	put("r1", "one");
	put("r2", "two");
	CHECK(rename("r1", "r3") == 0);
	FAILS(rename("r1", "r4"), ENOENT);
	CHECK(rename("r3", "r2") == 0); /* replaces */
	int fd = open("r2", O_RDONLY);
	CHECK(read(fd, buf, sizeof(buf)) == 3 && !strcmp(buf, "one"));
	close(fd);
	CHECK(mkdir("rd", 0755) == 0 && mkdir("rd/in", 0755) == 0);
	FAILS(rename("rd", "rd/in/x"), EINVAL);
	FAILS(rename("rd", "r2"), ENOTDIR);
	FAILS(rename("r2", "rd"), EISDIR);
	put("rd/in/f", "f");
	CHECK(rename("rd/in", "rd2") == 0);
	CHECK(rename("rd2", "rd3") == 0);
	CHECK(access("rd3/f", F_OK) == 0);
	put("n1", "1");
	put("n2", "2");
	FAILS(syscall(SYS_renameat2, AT_FDCWD, "n1", AT_FDCWD, "n2", 1),
	      EEXIST);
	CHECK(renameat(AT_FDCWD, "n1", AT_FDCWD, "n3") == 0);
}

static void links(void)
{
	char buf[64] = {0};
	struct stat st;
	put("target", "T");
	CHECK(symlink("target", "ln") == 0);
	FAILS(symlink("x", "ln"), EEXIST);
	CHECK(readlink("ln", buf, sizeof(buf)) == 6 && !strcmp(buf, "target"));
	CHECK(readlink("ln", buf, 2) == 2);
	FAILS(readlink("target", buf, sizeof(buf)), EINVAL);
	CHECK(lstat("ln", &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 6);
	CHECK(stat("ln", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 1);
	FAILS(open("ln", O_RDONLY | O_NOFOLLOW), ELOOP);
	CHECK(symlink("loop2", "loop1") == 0 && symlink("loop1", "loop2") == 0);
	FAILS(open("loop1", O_RDONLY), ELOOP);
	CHECK(symlink("nowhere", "dangling") == 0);
	FAILS(stat("dangling", &st), ENOENT);
	CHECK(lstat("dangling", &st) == 0);
	/* O_CREAT through a dangling link makes its target. */
	int fd = open("dangling", O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	close(fd);
	CHECK(access("nowhere", F_OK) == 0);
	CHECK(mkdir("ldir", 0755) == 0 && symlink("ldir", "ldir-link") == 0);
	put("ldir/in", "in");
	CHECK(access("ldir-link/in", F_OK) == 0);
	CHECK(unlink("ldir-link") == 0 && access("ldir/in", F_OK) == 0);
	CHECK(readlink("/proc/self/exe", buf, sizeof(buf)) > 1 && buf[0] == '/');
}

static void hard_links_owners_locks(void)
{
	struct stat st;
	put("h1", "hard");
	CHECK(link("h1", "h2") == 0);
	CHECK(stat("h1", &st) == 0 && st.st_nlink == 2);
	FAILS(link("h1", "h2"), EEXIST);
	FAILS(link("none", "h3"), ENOENT);
	CHECK(mkdir("hd", 0755) == 0);
	FAILS(link("hd", "hd2"), EPERM);
	CHECK(unlink("h1") == 0 && stat("h2", &st) == 0 && st.st_nlink == 1);
	CHECK(chown("h2", getuid(), getgid()) == 0);
	CHECK(chown("h2", -1, -1) == 0);
	if (getuid() != 0)
		FAILS(chown("h2", 4242, -1), EPERM);
	CHECK(fchown(open("h2", O_RDONLY), getuid(), getgid()) == 0);
	/* Locks on /tmp: the work directory may be on 9p (nested test VMs),
	 * where locking hangs. */
	int fd = open("/tmp/fsops-lock", O_CREAT | O_RDWR, 0600);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	CHECK(fcntl(fd, F_SETLK, &fl) == 0);
	fl.l_type = F_RDLCK;
	CHECK(fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type == F_UNLCK);
	CHECK(flock(fd, LOCK_EX) == 0 && flock(fd, LOCK_UN) == 0);
	close(fd);
	unlink("/tmp/fsops-lock");
}

static void cwd(const char *base)
{
	char buf[256], want[256];
	CHECK(mkdir("cw", 0755) == 0 && mkdir("cw/deeper", 0755) == 0);
	CHECK(chdir("cw/deeper") == 0);
	CHECK(getcwd(buf, sizeof(buf)) != NULL);
	snprintf(want, sizeof(want), "%s/cw/deeper", base);
	CHECK(!strcmp(buf, want));
	FAILS(syscall(SYS_getcwd, buf, 2), ERANGE);
	put("rel", "r");
	CHECK(chdir("..") == 0 && access("deeper/rel", F_OK) == 0);
	int dfd = open("deeper", O_RDONLY | O_DIRECTORY);
	CHECK(fchdir(dfd) == 0 && access("rel", F_OK) == 0);
	CHECK(openat(dfd, "rel", O_RDONLY) >= 0);
	close(dfd);
	FAILS(chdir("rel"), ENOTDIR);
	FAILS(chdir("none"), ENOENT);
	CHECK(chdir(base) == 0);
	CHECK(access("cw/../cw/./deeper/rel", R_OK) == 0);
}

static void access_and_modes(void)
{
	struct stat st;
	mode_t old = umask(077);
	put("um", "x");
	CHECK(stat("um", &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(umask(old) == 077);
	CHECK(chmod("um", 0400) == 0 && stat("um", &st) == 0 &&
	      (st.st_mode & 0777) == 0400);
	CHECK(access("um", F_OK) == 0 && access("um", R_OK) == 0);
	FAILS(access("um-not", F_OK), ENOENT);
	FAILS(access("um", 8), EINVAL);
	if (getuid() != 0) { /* root passes every permission check */
		FAILS(access("um", W_OK), EACCES);
		FAILS(open("um", O_WRONLY), EACCES);
		FAILS(open("/proc/meminfo", O_WRONLY), EACCES);
		FAILS(unlink("/dev/null"), EACCES);
		FAILS(syscall(SYS_faccessat2, AT_FDCWD, "um", X_OK, 0), EACCES);
	}
	struct timespec ts[2] = {{1000, 5}, {2000, 7}};
	CHECK(utimensat(AT_FDCWD, "um", ts, 0) == 0);
	CHECK(stat("um", &st) == 0 && st.st_atime == 1000 &&
	      st.st_mtime == 2000);
	ts[0].tv_nsec = 2000000000;
	FAILS(utimensat(AT_FDCWD, "um", ts, 0), EINVAL);
	/* statx through syscall(): musl 1.2.3 has no wrapper. */
	unsigned char sx[256];
	uint16_t sx_mode;
	uint64_t sx_size;
	CHECK(syscall(SYS_statx, AT_FDCWD, "um", 0, 0x7ff, sx) == 0);
	memcpy(&sx_mode, sx + 28, 2);
	memcpy(&sx_size, sx + 40, 8);
	CHECK(sx_size == 1 && S_ISREG(sx_mode));
	int fd = open("um", O_RDONLY);
	CHECK(fstatat(fd, "", &st, AT_EMPTY_PATH) == 0 && st.st_size == 1);
	close(fd);
}

static void descriptors(void)
{
	int fd = open("dupf", O_CREAT | O_RDWR, 0644);
	int d = dup(fd);
	CHECK(d > fd);
	CHECK(write(fd, "abc", 3) == 3 && lseek(d, 0, SEEK_CUR) == 3);
	CHECK(dup2(fd, 50) == 50 && fcntl(50, F_GETFD) == 0);
	CHECK(dup2(50, 50) == 50);
	FAILS(dup2(999, 51), EBADF);
	CHECK(dup3(fd, 51, O_CLOEXEC) == 51 && fcntl(51, F_GETFD) == FD_CLOEXEC);
	FAILS(dup3(fd, fd, 0), EINVAL);
	CHECK(fcntl(fd, F_DUPFD, 60) == 60);
	CHECK(fcntl(fd, F_DUPFD_CLOEXEC, 60) == 61 &&
	      fcntl(61, F_GETFD) == FD_CLOEXEC);
	CHECK(fcntl(61, F_SETFD, 0) == 0 && fcntl(61, F_GETFD) == 0);
	CHECK(fcntl(fd, F_SETFL, O_APPEND) == 0 &&
	      (fcntl(fd, F_GETFL) & O_APPEND));
	FAILS(fcntl(999, F_GETFD), EBADF);
	close(d);
	close(50);
	close(51);
	close(60);
	close(61);
	close(fd);
}

static void pipes(void)
{
	int p[2];
	char buf[16] = {0};
	CHECK(pipe(p) == 0);
	CHECK(write(p[1], "piped", 5) == 5);
	CHECK(read(p[0], buf, sizeof(buf)) == 5 && !strcmp(buf, "piped"));
	struct stat st;
	CHECK(fstat(p[0], &st) == 0 && S_ISFIFO(st.st_mode));
	FAILS(lseek(p[0], 0, SEEK_SET), ESPIPE);
	close(p[1]);
	CHECK(read(p[0], buf, sizeof(buf)) == 0);
	close(p[0]);
	CHECK(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
	FAILS(read(p[0], buf, 1), EAGAIN);
	CHECK(fcntl(p[0], F_GETFD) == FD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN);
	close(p[0]);
	FAILS(write(p[1], "x", 1), EPIPE);
	close(p[1]);
	FAILS(pipe2(p, 12345678), EINVAL);
}

static void devices(void)
{
	char buf[64];
	int fd = open("/dev/null", O_RDWR);
	CHECK(fd >= 0 && read(fd, buf, 10) == 0 && write(fd, "x", 1) == 1);
	close(fd);
	fd = open("/dev/zero", O_RDONLY);
	memset(buf, 7, sizeof(buf));
	CHECK(read(fd, buf, 32) == 32 && buf[0] == 0 && buf[31] == 0);
	close(fd);
	unsigned char r[32] = {0}, z[32] = {0};
	fd = open("/dev/urandom", O_RDONLY);
	CHECK(read(fd, r, sizeof(r)) == 32 && memcmp(r, z, sizeof(r)));
	close(fd);
	fd = open("/dev/random", O_RDONLY);
	CHECK(read(fd, r, 8) == 8);
	close(fd);
	struct stat st;
	CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) &&
	      st.st_rdev == makedev(1, 3));
	fd = open("/proc/meminfo", O_RDONLY);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	CHECK(n > 0);
	buf[n > 0 ? n : 0] = 0;
	CHECK(!strncmp(buf, "MemTotal:", 9));
	close(fd);
	fd = open("/dev/stdout", O_WRONLY);
	CHECK(fd >= 0);
	close(fd);
}

static void send(void)
{
	put("sf", "0123456789");
	int in = open("sf", O_RDONLY), out = open("sf-out", O_CREAT | O_WRONLY, 0644);
	off_t off = 2;
	CHECK(sendfile(out, in, &off, 5) == 5 && off == 7);
	CHECK(lseek(in, 0, SEEK_CUR) == 0);
	CHECK(sendfile(out, in, NULL, 100) == 10 && lseek(in, 0, SEEK_CUR) == 10);
	close(out);
	char buf[32] = {0};
	out = open("sf-out", O_RDONLY);
	CHECK(read(out, buf, sizeof(buf)) == 15 &&
	      !strcmp(buf, "234560123456789"));
	close(out);
	close(in);
}

/* DIR is a read-only drive holding the file "small" (a mount point). */
static int read_only(const char *dir)
{
	char buf[4096];
	struct stat root, here;
	FAILS(open("small", O_WRONLY), EROFS);
	FAILS(open("new", O_CREAT | O_WRONLY, 0644), EROFS);
	FAILS(mkdir("newdir", 0755), EROFS);
	FAILS(unlink("small"), EROFS);
	FAILS(rename("small", "other"), EROFS);
	FAILS(truncate("small", 0), EROFS);
	FAILS(access("small", W_OK), EROFS);
	CHECK(access("small", R_OK) == 0);
	CHECK(getcwd(buf, sizeof(buf)) && !strcmp(buf, dir));
	CHECK(stat("/", &root) == 0 && stat(".", &here) == 0 &&
	      root.st_dev != here.st_dev);
	/* ".." of the drive's root is the directory it is mounted on. */
	CHECK(chdir("..") == 0 && stat(".", &here) == 0 &&
	      here.st_dev == root.st_dev);
	printf("read-only: %d failures\n", failures);
	return failures;
}

/* Writes 1 MiB chunks until the file system is full; then frees it. */
static int fill(void)
{
	static char chunk[1 << 20];
	memset(chunk, 'f', sizeof(chunk));
	int fd = open("fill", O_CREAT | O_WRONLY, 0644);
	long total = 0, n;
	while ((n = write(fd, chunk, sizeof(chunk))) > 0 && total < (4l << 30))
		total += n;
	CHECK(n < 0 && errno == ENOSPC);
	close(fd);
	CHECK(unlink("fill") == 0);
	fd = open("after", O_CREAT | O_WRONLY, 0644);
	CHECK(write(fd, chunk, sizeof(chunk)) == sizeof(chunk));
	close(fd);
	printf("filled %ld MiB\n", total >> 20);
	return failures;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0); /* failures show even if we crash */
	if (argc < 2 || chdir(argv[1])) {
		fprintf(stderr, "usage: fsops DIR [fill]\n");
		return 100;
	}
	if (argc > 2 && !strcmp(argv[2], "fill"))
		return fill();
	if (argc > 2 && !strcmp(argv[2], "ro"))
		return read_only(argv[1]);
	files();
	big_file();
	dirs();
	renames();
	links();
	hard_links_owners_locks();
	cwd(argv[1]);
	access_and_modes();
	descriptors();
	pipes();
	devices();
	send();
	printf("fsops: %d failures\n", failures);
	return failures;
}
