/*
 * The syscall table: Linux x86-64 numbers to handlers. Anything missing
 * returns -ENOSYS and, with --verbose, is named to the host once.
 */
#include "fuzz.h"
#include "sys.h"

#define NR_MAX 512

typedef long (*sys_fn)(long, long, long, long, long, long);

static const sys_fn table[NR_MAX] = {
	[0] = sys_read,
	[1] = sys_write,
	[2] = sys_open,
	[3] = sys_close,
	[4] = sys_stat,
	[5] = sys_fstat,
	[6] = sys_lstat,
	[7] = sys_poll,
	[8] = sys_lseek,
	[9] = sys_mmap,
	[10] = sys_mprotect,
	[11] = sys_munmap,
	[12] = sys_brk,
	[13] = sys_rt_sigaction,
	[14] = sys_rt_sigprocmask,
	[15] = sys_rt_sigreturn,
	[16] = sys_ioctl,
	[17] = sys_pread64,
	[18] = sys_pwrite64,
	[19] = sys_readv,
	[20] = sys_writev,
	[21] = sys_access,
	[22] = sys_pipe,
	[24] = sys_sched_yield,
	[25] = sys_mremap,
	[26] = sys_zero, /* msync: mappings are copies */
	[28] = sys_madvise,
	[32] = sys_dup,
	[33] = sys_dup2,
	[35] = sys_nanosleep,
	[39] = sys_getpid,
	[40] = sys_sendfile,
	[41] = sys_socket,
	[42] = sys_connect,
	[44] = sys_sendto,
	[45] = sys_recvfrom,
	[48] = sys_shutdown,
	[51] = sys_getsockname,
	[52] = sys_getpeername,
	[60] = sys_exit_group, /* exit: the only thread */
	[62] = sys_kill,
	[63] = sys_uname,
	[72] = sys_fcntl,
	[73] = sys_flock,
	[74] = sys_fsync,
	[75] = sys_fsync, /* fdatasync */
	[76] = sys_truncate,
	[77] = sys_ftruncate,
	[79] = sys_getcwd,
	[80] = sys_chdir,
	[81] = sys_fchdir,
	[82] = sys_rename,
	[83] = sys_mkdir,
	[84] = sys_rmdir,
	[85] = sys_creat,
	[86] = sys_link,
	[87] = sys_unlink,
	[88] = sys_symlink,
	[89] = sys_readlink,
	[90] = sys_chmod,
	[91] = sys_fchmod,
	[92] = sys_chown,
	[93] = sys_fchown,
	[94] = sys_lchown,
	[95] = sys_umask,
	[96] = sys_gettimeofday,
	[97] = sys_getrlimit,
	[98] = sys_getrusage,
	[99] = sys_sysinfo,
	[100] = sys_times,
	[102] = sys_getuid,
	[104] = sys_getuid, /* getgid */
	[107] = sys_getuid, /* geteuid */
	[108] = sys_getuid, /* getegid */
	[110] = sys_getppid,
	[111] = sys_getid, /* getpgrp */
	[115] = sys_getgroups,
	[121] = sys_getid, /* getpgid */
	[124] = sys_getid, /* getsid */
	[131] = sys_sigaltstack,
	[158] = sys_arch_prctl,
	[160] = sys_setrlimit,
	[186] = sys_getid, /* gettid */
	[200] = sys_tkill,
	[201] = sys_time,
	[202] = sys_futex,
	[203] = sys_sched_setaffinity,
	[204] = sys_sched_getaffinity,
	[217] = sys_getdents64,
	[218] = sys_set_tid_address,
	[228] = sys_clock_gettime,
	[229] = sys_clock_getres,
	[230] = sys_clock_nanosleep,
	[231] = sys_exit_group,
	[234] = sys_tgkill,
	[257] = sys_openat,
	[258] = sys_mkdirat,
	[260] = sys_fchownat,
	[262] = sys_newfstatat,
	[263] = sys_unlinkat,
	[264] = sys_renameat,
	[265] = sys_linkat,
	[266] = sys_symlinkat,
	[267] = sys_readlinkat,
	[268] = sys_fchmodat,
	[269] = sys_faccessat,
	[271] = sys_ppoll,
	[273] = sys_set_robust_list,
	[280] = sys_utimensat,
	[292] = sys_dup3,
	[293] = sys_pipe2,
	[295] = sys_preadv,
	[296] = sys_pwritev,
	[302] = sys_prlimit64,
	[309] = sys_getcpu,
	[316] = sys_renameat2,
	[318] = sys_getrandom,
	[332] = sys_statx,
	[439] = sys_faccessat2,
};

_Static_assert(NR_MAX == AL_SYSCALL_NR_MAX, "one syscall numbering");

/* The policy's refused syscalls; none until the job starts. */
static const uint64_t *refused_bits;
static bool refused_kill;

void syscall_policy(const struct al_job *job)
{
	refused_bits = job->syscall_refused;
	refused_kill = job->syscall_action == AL_SYSCALL_KILL;
}

/* exit and exit_group are never refused: a job can always end. */
static bool is_refused(uint64_t nr)
{
	return refused_bits && nr < NR_MAX && nr != 60 && nr != 231 &&
	       (refused_bits[nr / 64] >> (nr % 64)) & 1;
}

static uint64_t unmade_told[NR_MAX / 64 + 1];

/* --verbose: the host names each syscall the job could not make, once.
 * A number is always refused or always unimplemented, so one bit each. */
static void tell_unmade(long nr, bool refused)
{
	/* After a fuzzing snapshot point nothing goes out on vsock, unless
	 * the job's output does. */
	if (!(GK_BI->flags & AL_BOOT_F_VERBOSE) || fuzz_drops_output())
		return;
	/* One bit per number; every number past the table shares the last. */
	uint64_t bit = (uint64_t)nr < NR_MAX ? (uint64_t)nr : NR_MAX;
	uint64_t *word = &unmade_told[bit / 64], mask = 1ull << (bit % 64);
	if (*word & mask)
		return;
	*word |= mask;
	struct al_enosys_msg m = {.nr = (uint32_t)nr, .refused = refused};
	vsock_send_msg(AL_MSG_ENOSYS, &m, sizeof(m));
}

static long dispatch(long a0, long a1, long a2, long a3, long a4, long a5,
		     long nr)
{
	if (is_refused((uint64_t)nr)) {
		tell_unmade(nr, true);
		if (refused_kill)
			proc_kill(GK_SIGSYS, 0, 0);
		return -EPERM;
	}
	if ((uint64_t)nr < NR_MAX && table[nr])
		return table[nr](a0, a1, a2, a3, a4, a5);
	if (nr == AL_SYS_AIRLOCK)
		return fuzz_call(a0, a1, a2);
	tell_unmade(nr, false);
	return -ENOSYS;
}

long gk_syscall(long a0, long a1, long a2, long a3, long a4, long a5, long nr)
{
	gk_proc.syscalls++;
	long r = dispatch(a0, a1, a2, a3, a4, a5, nr);
	if (gk_proc.sigpending & ~gk_proc.sigmask)
		r = signal_deliver(r);
	return r;
}
