/* libunwind's signal masking, skipped inside our own remote walks.
 *
 * libunwind (built with --enable-block-signals, Debian's default) sets the
 * signal mask to "all blocked" before it takes the lock of an address
 * space's register-state cache and restores it after (lock_acquire and
 * lock_release in its include/libunwind_i.h, get_rs_cache and put_rs_cache
 * in src/dwarf/Gparser.c; its memory pool does the same): two sigprocmask
 * calls a frame, 30 system calls and 8 of the 11 us of a warm 14-frame
 * unwind (perf, tools/loupe-bench).  What the mask guards against is a
 * signal handler that runs on the same thread while the cache lock is held
 * and calls into libunwind itself (a local unwind from a SIGSEGV or SIGPROF
 * handler): it would deadlock on the lock or see the cache half written.
 * The loupe program never unwinds from a signal handler (its handlers set
 * flags or only interrupt a system call), and the lock itself is kept, so
 * other threads are still excluded: while this thread is inside one of
 * our walks (unwind_in_walk), sigprocmask is a no-op; everywhere else it
 * is glibc's, through pthread_sigmask (same effect, errors by return).
 *
 * What libunwind offers instead does not do here: UNW_CACHE_NONE takes no
 * lock but parses the CFI again at every frame, and UNW_CACHE_PER_THREAD
 * (no lock) is turned into UNW_CACHE_GLOBAL by Debian's 1.6.2, built
 * without __thread.  So the override stays, but it is not part of
 * libloupe.a: it defines libc's sigprocmask for the whole program that
 * links it, so only the programs that unwind at rate and install no
 * unwinding handler list this file in their sources (the loupe program,
 * tools/loupe-bench); the unit tests and every other program linked with
 * the library keep libc's.  tests/functional/test_osfacts.py checks both. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include "unwind.h"

int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	if (unwind_in_walk()) {
		if (old)
			sigemptyset(old);
		return 0;
	}
	int r = pthread_sigmask(how, set, old);
	if (r) {
		errno = r;
		return -1;
	}
	return 0;
}
