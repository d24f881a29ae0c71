/* The syscall handlers, by family; syscall.c maps Linux numbers to them. */
#ifndef GK_SYS_H
#define GK_SYS_H

#include "gk.h"

/* sys_io.c: the three standard streams */
GK_SYSCALL(sys_read);
GK_SYSCALL(sys_write);
GK_SYSCALL(sys_readv);
GK_SYSCALL(sys_writev);
GK_SYSCALL(sys_close);
GK_SYSCALL(sys_dup);
GK_SYSCALL(sys_dup2);
GK_SYSCALL(sys_dup3);
GK_SYSCALL(sys_fstat);
GK_SYSCALL(sys_newfstatat);
GK_SYSCALL(sys_lseek);
GK_SYSCALL(sys_pread64);
GK_SYSCALL(sys_ioctl);
GK_SYSCALL(sys_fcntl);
GK_SYSCALL(sys_poll);
GK_SYSCALL(sys_ppoll);
GK_SYSCALL(sys_getcwd);
GK_SYSCALL(sys_readlink);
GK_SYSCALL(sys_readlinkat);
GK_SYSCALL(sys_stat);

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
