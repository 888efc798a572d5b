/*
 * LMDB asks for robust process-shared mutexes in its lock file, so that a
 * process dying while it holds the write lock (a `deliver` killed by the OOM
 * killer) does not hang every other writer: the next locker gets EOWNERDEAD
 * and LMDB recovers.
 *
 * Robust mutexes need the kernel's robust futex list (set_robust_list).
 * qemu-user, which runs the cross builds' tests, does not implement it: musl
 * then refuses the mutex (ENOSYS, so no store at all) and glibc hands out a
 * mutex that spins forever once two processes share it. Cross boards link
 * LMDB with -Wl,--wrap=pthread_mutexattr_setrobust and this wrapper: where
 * the kernel has robust futex lists (every Linux since 2.6.17, so every
 * router and NAS) it changes nothing; where they are missing the mutex is an
 * ordinary process-shared one, as on systems without robust mutexes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

int __real_pthread_mutexattr_setrobust(pthread_mutexattr_t *attr, int robust);
int __wrap_pthread_mutexattr_setrobust(pthread_mutexattr_t *attr, int robust);

/* 1 if this kernel (or emulator) keeps robust futex lists. Asked once. */
static int robust_lists_work(void)
{
	static int known = -1;
	void *head;
	size_t len;

	if (known < 0)
		known = syscall(SYS_get_robust_list, 0, &head, &len) == 0 || errno != ENOSYS;
	return known;
}

int __wrap_pthread_mutexattr_setrobust(pthread_mutexattr_t *attr, int robust)
{
	if (robust && !robust_lists_work())
		return 0;
	return __real_pthread_mutexattr_setrobust(attr, robust);
}
