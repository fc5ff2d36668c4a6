/* Every bound on a walk over remote or untrusted data, in one place.  Memory
 * of another process can hold anything; each loop that follows it stops at
 * one of these. */
#ifndef LOUPE_BOUNDS_H
#define LOUPE_BOUNDS_H

/* Frames kept of one stack (Python or native).  A deeper Python stack
 * keeps its leaf and root halves around a "[N frames omitted]" frame; a
 * deeper native one is truncated. */
#define MAX_STACK_DEPTH 2048
/* Frames followed in one Python stack walk (past MAX_STACK_DEPTH only the
 * root half is kept); a longer chain is a failed sample, "too deep". */
#define MAX_PY_WALK_DEPTH 65536
/* Fresh re-reads of a Python stack that did not end at its thread's base
 * frame (a torn read), within the same sample, before it counts as
 * failed. */
#define MAX_PY_WALK_RETRIES 3
/* The same up to 3.10, where a frame is an object of its own read by a
 * read of its own: a recursion that changes every 100 ns tears most reads
 * (fib(25) on 3.8: 84% of reads; half its samples failed after 3 re-reads,
 * 5% after 16).  Only a torn stack pays them. */
#define MAX_PY_OBJ_WALK_RETRIES 16
/* Threads followed in one process; more are ignored (and counted). */
#define MAX_THREADS 4096
/* Processes of one tree followed by --subprocesses (profiler/proc_watch.c);
 * more descendants are left out (and counted). */
#define MAX_PROC_MEMBERS 4096
/* /proc entries read by one scan for parent pids: PID_MAX_LIMIT (4M) on
 * 64-bit kernels, so a scan stops even on a /proc that never ends. */
#define MAX_PROC_SCAN_PIDS (4u * 1024 * 1024)
/* Interpreters in one CPython process (subinterpreters). */
#define MAX_INTERPRETERS 64
/* Local variables of one frame read by dump --locals (a code object's
 * names past this are left out). */
#define MAX_PY_LOCALS 256
/* Threads whose Python name one lookup finds (threading._active). */
#define MAX_PY_NAMED_THREADS 1024
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
/* Bytes of one string interned in a profile (names, metadata values, the
 * folded lines of the collapsed writer); a longer one is refused, so that
 * every string fits one .loupe record (id varint + bytes). */
#define MAX_INTERN_STR_LEN (MAX_RECORD_LEN - 16)
/* Frame ids in one interned stack: native + Python + task chain + synthetic
 * roots stay far below; the cap keeps a stack within one .loupe record. */
#define MAX_INTERN_STACK_LEN 65536
/* Metadata entries of one profile (key/value pairs). */
#define MAX_META 1024
/* Bytes the .loupe writer buffers before a write(2). */
#define RAW_WRITE_BUFFER (64u * 1024)

/* Symbols indexed from one ELF file (.symtab + .dynsym); libxul-sized
 * files have about a million, more are dropped. */
#define MAX_ELF_SYMBOLS (4u * 1024 * 1024)
/* Bytes kept of one symbol or section name (long C++ names are cut). */
#define MAX_SYMBOL_NAME_LEN 4096
/* Section or program headers of one ELF file; more is a corrupt file. */
#define MAX_ELF_SECTIONS 65536
/* Bytes of an NT_GNU_BUILD_ID (20 for SHA-1, the longest in use is 32). */
#define MAX_BUILD_ID_LEN 64
/* Distinct ELF files in one ELF cache (a daemon across upgrades); past it
 * new files are refused (their frames keep module + offset, no name). */
#define MAX_ELF_CACHE 4096
/* Entries read from one /tmp/perf-PID.map (JIT symbols). */
#define MAX_PERF_MAP_ENTRIES (1u * 1024 * 1024)
/* Bytes of one /tmp/perf-PID.map file read. */
#define MAX_PERF_MAP_BYTES (256u * 1024 * 1024)

/* Bytes of one CPython frame data-stack chunk copied per sample (3.11+);
 * frames past it are read one by one. */
#define MAX_PY_CHUNK_READ (256u * 1024)
/* Remote regions re-read in the one vectored read that starts a CPython
 * sample (must stay below MAX_IOV). */
#define MAX_PY_PREFETCH 512
/* Code objects cached per CPython process (names, file, line table). */
#define MAX_PY_CODE_CACHE 4096

/* asyncio tasks followed in one process (profiler/python/asyncio.c); more
 * are left out and counted. */
#define MAX_ASYNCIO_TASKS 16384
/* Tasks whose object and await chain are read again in one sample; the
 * others keep the chain read at an earlier sample (round robin), so a
 * sample costs at most this many task reads however many tasks exist. */
#define MAX_ASYNCIO_TASK_READS 64
/* Samples of suspended tasks added in one tick; with more tasks, each is
 * sampled every k-th tick with k times the weight (profiler/tasks.c). */
#define MAX_TASK_SAMPLES 1024
/* Coroutines / generators followed down one await chain. */
#define MAX_AWAIT_DEPTH 64
/* Entries scanned in one remote dict (sys.modules, a module's globals,
 * an instance dict) or items of one remote list. */
#define MAX_PY_DICT_ENTRIES 65536
/* Slots of one remote set's hash table (a WeakSet of tasks). */
#define MAX_PY_SET_SLOTS (1u << 18)
/* Handles of one loop's ready queue looked at for the tasks they step
 * (top's header); a longer queue's tasks are not told ready. */
#define MAX_ASYNCIO_READY 16384
/* Event loops told apart in one process. */
#define MAX_ASYNCIO_LOOPS 64
/* Tasks kept as awaiting one task (a future awaited by many: the rest are
 * counted, not listed), and awaiter links in one process in all. */
#define MAX_TASK_AWAITERS 64
#define MAX_ASYNCIO_AWAIT_LINKS (4 * MAX_ASYNCIO_TASKS)
/* Objects a done callback holds that are looked at for the future its
 * awaiter waits on (closure cells, a partial's arguments). */
#define MAX_CALLBACK_REFS 8

/* Bytes kept of one string read from a .loupe file (a function or file
 * name, a metadata value): a longer one is cut there, ending in "...", so
 * that a hostile recording's 16 MiB name costs no more than this in every
 * output (raw_reader.c). */
#define MAX_READ_STR_LEN 65536
/* CPU samples of one aggregate read from a recording: 2^40 is 350 years
 * at 100 Hz, and a sum of them over any number of aggregates memory can
 * hold stays below 2^64 (no share above 100% from a wrapped sum). */
#define PROFILE_MAX_AGG_CPU (1ull << 40)
/* Directory entries an output's open looks through for temporaries of dead
 * runs ("<name>.tmp.<pid>", atomic_file.c). */
#define MAX_STALE_SCAN 65536
/* Symbolic links followed from an output path under --follow (the
 * kernel's own limit, ELOOP). */
#define MAX_LINK_HOPS 40

/* The heap census (profiler/python/heap_census.c): objects followed along
 * all GC lists of one census (a list that has not closed by then is
 * changing under us or corrupt), distinct types kept, and the pages of
 * the target's heap kept in the census's read cache (x 16 KiB). */
#define MAX_HEAP_OBJECTS (64u * 1024 * 1024)
#define MAX_HEAP_TYPES 65536
#define MAX_HEAP_CACHE_LINES 1024
/* pymalloc arenas a census reads (x 1 MiB: 1 TiB), and the largest arena
 * (read whole, one at a time) */
#define MAX_HEAP_ARENAS (1u << 20)
#define MAX_HEAP_ARENA_BYTES (4u << 20)
/* Bytes of the interpreter binary's writable data (.data, .bss) searched
 * for pymalloc's usedpools array and arenas vector where neither a layout
 * nor a symbol names them, and the bytes read at once */
#define MAX_HEAP_DATA_SCAN (64u << 20)
#define HEAP_DATA_CHUNK (256u * 1024)
/* Places that look like usedpools (or the arenas variable) checked */
#define MAX_HEAP_POOL_CANDIDATES 8
/* Item pointers of lists and tuples a census reads looking for large
 * objects, in all, and in one read */
#define MAX_HEAP_ITEMS (64u * 1024 * 1024)
#define MAX_HEAP_ITEMS_READ 4096u
/* The largest dict keys table a census believes, as the log2 of its
 * slots (2^32 slots: over 100 GiB of table); a larger one is garbage
 * read from a dict that changed, counted as changed */
#define MAX_HEAP_DICT_LOG2 32u
/* tracemalloc's traces table read from outside (python/tracemalloc.c):
 * buckets and traces at most (a table past these is refused as garbage,
 * 2^24 live traces being ~1 GiB of the target's own bookkeeping), frames
 * kept per traceback (tracemalloc's own maximum is 65535), and the bucket
 * pointers read at once. */
#define MAX_TM_BUCKETS (1u << 26)
#define MAX_TM_TRACES (1u << 24)
#define MAX_TM_FRAMES 256
#define MAX_TM_BUCKET_CHUNK 8192

#endif
