/* ELF files of the target, read with libelf: symbols from .symtab and
 * .dynsym, build-id, and the program headers needed for the load bias. */
#ifndef LOUPE_ELF_H
#define LOUPE_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "maps.h"

typedef struct elf_file elf_file;

/* Opens and indexes path (symbols sorted by address).  A truncated or
 * non-ELF file is LP_EFORMAT. */
int elf_file_open(elf_file **out, const char *path, lp_error *err);
/* The same from an open descriptor (not closed, not kept: everything is
 * copied out); name is for messages only. */
int elf_file_open_fd(elf_file **out, int fd, const char *name, lp_error *err);
/* The same from an ELF image in memory (copied; e.g. our own vDSO). */
int elf_file_open_mem(elf_file **out, const void *image, size_t len,
		      const char *name, lp_error *err);
void elf_file_free(elf_file *f);

/* Hex build-id, or "" when the file has none. */
const char *elf_file_build_id(const elf_file *f);
/* True for ET_DYN (PIE executables and shared libraries). */
int elf_file_is_dyn(const elf_file *f);
/* True when the file has a full .symtab (not stripped to .dynsym). */
int elf_file_has_symtab(const elf_file *f);
/* Gives dst the PT_LOAD table of src (and takes src's): a detached debug
 * file (objcopy --only-keep-debug) has the symbols but p_filesz 0 in its
 * program headers, so the load bias must come from the mapped file. */
void elf_file_take_loads(elf_file *dst, elf_file *src);

/* The symbol covering vaddr (an address in the file's own address space):
 * its name and vaddr - symbol start.  LP_ENOTFOUND when none. */
int elf_file_lookup(const elf_file *f, uint64_t vaddr, const char **name,
		    uint64_t *offset);
/* The same with C++ and Rust names demangled (demangle.h): each symbol
 * once, at its first lookup, kept with the file; the raw name when it is
 * not mangled or does not demangle. */
int elf_file_lookup_demangled(elf_file *f, uint64_t vaddr, const char **name,
			      uint64_t *offset);
/* A symbol's address (file address space) and size by exact name. */
int elf_file_find_symbol(const elf_file *f, const char *name, uint64_t *vaddr,
			 uint64_t *size);

/* Load bias: runtime address = vaddr + bias, computed from a mapping of this
 * file in the target (the PT_LOAD that covers the mapping's file offset).
 * 0 for ET_EXEC.  Two segments can share a file page (read-only data and
 * the RELRO start of data, both r--p at one offset), so for ET_DYN pass the
 * file's first mapping (offset 0), which is never ambiguous. */
int elf_file_load_bias(const elf_file *f, const struct map_entry *m,
		       uint64_t *bias);

/* Opens the file mapped at e in the process whose /proc/PID directory is
 * procfd: through root/ so that another mount namespace is read right,
 * checked to be the inode that is mapped; else map_files/START-END, which
 * is the mapped file itself even when deleted or replaced (needs
 * CAP_SYS_ADMIN / CAP_CHECKPOINT_RESTORE, proc(5)).  LP_OK and *fd (the
 * caller closes it); LP_EFORMAT when root/ holds another file than the
 * one mapped (replaced on disk) and map_files is refused; else the code
 * of the last open's errno, errno kept for the caller's message. */
int elf_open_mapped(int procfd, const struct map_entry *e, int *fd);

/* Whether a maps path carries the kernel's " (deleted)" tag. */
int elf_path_deleted(const char *path);

/* Where the .eh_frame_hdr of the module mapped at m is in the target (its
 * PT_GNU_EH_FRAME segment moved by the load bias of m, as
 * elf_file_load_bias computes it) and its size; from the program headers
 * alone, of an open file or of an image in memory (a vDSO read from the
 * target).  LP_ENOTFOUND when the module has none, LP_EFORMAT when it is
 * no ELF object. */
int elf_eh_frame_hdr_fd(int fd, const struct map_entry *m, uint64_t *addr,
			uint64_t *size);
int elf_eh_frame_hdr_mem(const void *image, size_t len,
			 const struct map_entry *m, uint64_t *addr,
			 uint64_t *size);

/* The file address range (vaddr, size) of a section by name (e.g.
 * ".PyRuntime", ".eh_frame_hdr").  LP_ENOTFOUND when absent. */
int elf_file_section(const elf_file *f, const char *name, uint64_t *vaddr,
		     uint64_t *size);

#endif
