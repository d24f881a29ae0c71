/* The syscall handlers, by family; syscall.c maps Linux numbers to them. */
#ifndef GK_SYS_H
#define GK_SYS_H

#include "gk.h"

/* sys_io.c: moving bytes through descriptors */
GK_SYSCALL(sys_read);
GK_SYSCALL(sys_write);
GK_SYSCALL(sys_readv);
GK_SYSCALL(sys_writev);
GK_SYSCALL(sys_pread64);
GK_SYSCALL(sys_pwrite64);
GK_SYSCALL(sys_preadv);
GK_SYSCALL(sys_pwritev);
GK_SYSCALL(sys_lseek);
GK_SYSCALL(sys_sendfile);
GK_SYSCALL(sys_ioctl);
GK_SYSCALL(sys_poll);
GK_SYSCALL(sys_ppoll);

/* sys_fd.c: the descriptor table */
GK_SYSCALL(sys_close);
GK_SYSCALL(sys_dup);
GK_SYSCALL(sys_dup2);
GK_SYSCALL(sys_dup3);
GK_SYSCALL(sys_fcntl);
GK_SYSCALL(sys_pipe);
GK_SYSCALL(sys_pipe2);
GK_SYSCALL(sys_ftruncate);
GK_SYSCALL(sys_fsync);
GK_SYSCALL(sys_fchdir);
GK_SYSCALL(sys_getdents64);
struct gk_inode;
/* ftruncate and truncate: size checks, then the file system's truncate. */
long sys_truncate_inode(struct gk_inode *in, long size);

/* sock.c: AF_VSOCK stream sockets to the host */
GK_SYSCALL(sys_socket);
GK_SYSCALL(sys_connect);
GK_SYSCALL(sys_sendto);
GK_SYSCALL(sys_recvfrom);
GK_SYSCALL(sys_shutdown);
GK_SYSCALL(sys_getsockname);
GK_SYSCALL(sys_getpeername);

/* sys_path.c: calls that name files */
GK_SYSCALL(sys_open);
GK_SYSCALL(sys_openat);
GK_SYSCALL(sys_creat);
GK_SYSCALL(sys_mkdir);
GK_SYSCALL(sys_mkdirat);
GK_SYSCALL(sys_symlink);
GK_SYSCALL(sys_symlinkat);
GK_SYSCALL(sys_unlink);
GK_SYSCALL(sys_unlinkat);
GK_SYSCALL(sys_rmdir);
GK_SYSCALL(sys_rename);
GK_SYSCALL(sys_renameat);
GK_SYSCALL(sys_renameat2);
GK_SYSCALL(sys_readlink);
GK_SYSCALL(sys_readlinkat);
GK_SYSCALL(sys_access);
GK_SYSCALL(sys_faccessat);
GK_SYSCALL(sys_faccessat2);
GK_SYSCALL(sys_chdir);
GK_SYSCALL(sys_getcwd);
GK_SYSCALL(sys_truncate);
GK_SYSCALL(sys_chmod);
GK_SYSCALL(sys_fchmod);
GK_SYSCALL(sys_fchmodat);
GK_SYSCALL(sys_utimensat);
GK_SYSCALL(sys_link);
GK_SYSCALL(sys_linkat);
GK_SYSCALL(sys_chown);
GK_SYSCALL(sys_lchown);
GK_SYSCALL(sys_fchown);
GK_SYSCALL(sys_fchownat);
GK_SYSCALL(sys_flock);

/* sys_stat.c */
GK_SYSCALL(sys_stat);
GK_SYSCALL(sys_lstat);
GK_SYSCALL(sys_fstat);
GK_SYSCALL(sys_newfstatat);
GK_SYSCALL(sys_statx);

/* sys_mm.c */
GK_SYSCALL(sys_brk);
GK_SYSCALL(sys_mmap);
GK_SYSCALL(sys_munmap);
GK_SYSCALL(sys_mprotect);
GK_SYSCALL(sys_mremap);
GK_SYSCALL(sys_madvise);

/* sys_time.c */
GK_SYSCALL(sys_clock_gettime);
GK_SYSCALL(sys_clock_getres);
GK_SYSCALL(sys_gettimeofday);
GK_SYSCALL(sys_time);
GK_SYSCALL(sys_nanosleep);
GK_SYSCALL(sys_clock_nanosleep);
GK_SYSCALL(sys_times);
GK_SYSCALL(sys_getrusage);

/* sys_proc.c */
GK_SYSCALL(sys_exit_group);
GK_SYSCALL(sys_getpid);
GK_SYSCALL(sys_getppid);
GK_SYSCALL(sys_getid);
GK_SYSCALL(sys_getuid);
GK_SYSCALL(sys_getgroups);
GK_SYSCALL(sys_uname);
GK_SYSCALL(sys_arch_prctl);
GK_SYSCALL(sys_set_tid_address);
GK_SYSCALL(sys_set_robust_list);
GK_SYSCALL(sys_prlimit64);
GK_SYSCALL(sys_getrlimit);
GK_SYSCALL(sys_setrlimit);
GK_SYSCALL(sys_getrandom);
GK_SYSCALL(sys_sched_yield);
GK_SYSCALL(sys_sched_getaffinity);
GK_SYSCALL(sys_sched_setaffinity);
GK_SYSCALL(sys_futex);
GK_SYSCALL(sys_umask);
GK_SYSCALL(sys_zero);
GK_SYSCALL(sys_sysinfo);
GK_SYSCALL(sys_getcpu);

/* sys_signal.c */
GK_SYSCALL(sys_rt_sigaction);
GK_SYSCALL(sys_rt_sigprocmask);
GK_SYSCALL(sys_rt_sigreturn);
GK_SYSCALL(sys_sigaltstack);
GK_SYSCALL(sys_kill);
GK_SYSCALL(sys_tkill);
GK_SYSCALL(sys_tgkill);

/* Reads a user timespec into ns; -EFAULT/-EINVAL as Linux. */
long sys_timespec_ns(uint64_t uaddr, uint64_t *ns);

#endif
