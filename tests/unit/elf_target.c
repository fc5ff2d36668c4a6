/* A program with known symbols for check_elf: it prints the runtime address
 * of each, then the lines of its own /proc/self/maps that map its
 * executable, then exits; with an argument it first waits for EOF on stdin
 * (check_symbols looks at it alive).  Built PIE and non-PIE. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A function without .size (size 0 in the symbol table): it must cover up
 * to the next symbol, not beyond its section. */
__asm__(".text\n"
	".globl elf_target_zero_size\n"
	".type elf_target_zero_size, @function\n"
	"elf_target_zero_size:\n"
	"\tnop\n\tnop\n\tnop\n\tret\n");
void elf_target_zero_size(void);

int elf_target_data[64] = { 1 };

__attribute__((noinline)) int elf_target_alpha(int x)
{
	return x * 3 + elf_target_data[0];
}

__attribute__((noinline)) int elf_target_beta(int x)
{
	return elf_target_alpha(x) + 7;
}

static __attribute__((noinline)) int elf_target_local(int x)
{
	return elf_target_beta(x) - 1;
}

int main(int argc, char **argv)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return 1;
	exe[n] = '\0';
	printf("elf_target_alpha %lx\n", (unsigned long)&elf_target_alpha);
	printf("elf_target_beta %lx\n", (unsigned long)&elf_target_beta);
	printf("elf_target_local %lx\n", (unsigned long)&elf_target_local);
	printf("elf_target_zero_size %lx\n",
	       (unsigned long)&elf_target_zero_size);
	printf("elf_target_data %lx\n", (unsigned long)&elf_target_data);
	printf("main %lx\n", (unsigned long)&main);
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return 1;
	char line[8192];
	while (fgets(line, sizeof line, f)) {
		size_t len = strlen(line);
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len >= (size_t)n && strcmp(line + len - n, exe) == 0)
			printf("map %s\n", line);
	}
	fclose(f);
	fflush(stdout);
	if (argc > 1 && argv[1])
		while (getchar() != EOF)
			;
	return elf_target_local(0) == 0;
}
