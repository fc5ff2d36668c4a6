/* Every bound on a walk over remote or untrusted data, in one place.  Memory
 * of another process can hold anything; each loop that follows it stops at
 * one of these. */
#ifndef LOUPE_BOUNDS_H
#define LOUPE_BOUNDS_H

/* Frames in one stack (Python or native), deeper stacks are truncated. */
#define MAX_STACK_DEPTH 512
/* Threads followed in one process; more are ignored (and counted). */
#define MAX_THREADS 4096
/* Interpreters in one CPython process (subinterpreters). */
#define MAX_INTERPRETERS 64
/* Bytes of one remote string (function or file name). */
#define MAX_STRING_LEN 1024
/* Bytes of one remote line table (co_lnotab / co_linetable). */
#define MAX_LINETABLE_LEN (256 * 1024)
/* Entries of /proc/PID/maps kept for one process. */
#define MAX_MAPS 65536
/* Bytes of a path read from /proc or from remote memory. */
#define MAX_PATH_LEN 4096
/* Bytes of one record in a .loupe file; a larger length is corruption. */
#define MAX_RECORD_LEN (16u * 1024 * 1024)
/* iovecs in one process_vm_readv call (the kernel's UIO_MAXIOV is 1024). */
#define MAX_IOV 1024

#endif
