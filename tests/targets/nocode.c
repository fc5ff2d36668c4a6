/* A native target whose stack leads an unwinder into memory that holds no
 * code: built without unwind tables, so that libunwind falls back to the
 * frame-pointer chain, it spends most of its time in fake_frames() with
 * %rbp pointing at a made-up frame whose "return addresses" are a stack
 * address, then a heap address, then a data address.  An unwinder that
 * trusts them prints [stack]+0x..., [heap]+0x... or [anon]+0x... frames.
 * The rest of the time it burns in honest() through real frames.  Prints
 * "ready <pid>" once running. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile unsigned long sink;
static uint64_t data_words[8];

__attribute__((noinline)) static void fake_frames(uint64_t *heap)
{
	uint64_t frame[6];
	/* frame[0..1]: saved rbp -> frame[2], "return" into the stack;
	 * frame[2..3]: saved rbp -> frame[4], "return" into the heap;
	 * frame[4..5]: saved rbp -> data, "return" into .bss */
	frame[0] = (uint64_t)&frame[2];
	frame[1] = (uint64_t)&frame[5] + 1;
	frame[2] = (uint64_t)&frame[4];
	frame[3] = (uint64_t)heap + 8;
	frame[4] = (uint64_t)data_words;
	frame[5] = (uint64_t)&data_words[4];
	data_words[0] = (uint64_t)data_words;
	data_words[1] = (uint64_t)heap + 16;
	for (int k = 0; k < 2000; k++)
		__asm__ volatile(
			"push %%rbp\n\t"
			"mov %0, %%rbp\n\t"
			"mov $20000, %%ecx\n"
			"1:\n\t"
			"dec %%ecx\n\t"
			"jnz 1b\n\t"
			"pop %%rbp\n\t"
			: : "r"(frame) : "rcx", "memory", "cc");
}

__attribute__((noinline)) static void honest(void)
{
	for (unsigned long i = 0; i < 20000000; i++)
		sink += i * 2654435761u;
}

__attribute__((noinline)) static void loop(uint64_t *heap)
{
	for (;;) {
		fake_frames(heap);
		honest();
		__asm__ volatile("" ::: "memory");
	}
}

int main(void)
{
	uint64_t *heap = malloc(4096);
	if (!heap)
		return 1;
	for (int i = 0; i < 512; i++)
		heap[i] = (uint64_t)heap;
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	loop(heap);
	return 0;
}
