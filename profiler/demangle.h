/* Readable names of C++ and Rust symbols, as perf and binutils show them:
 * libiberty's demangler (GNU v3 C++, Rust legacy and v0). */
#ifndef LOUPE_DEMANGLE_H
#define LOUPE_DEMANGLE_H

/* A malloc'ed demangled form of name (with the parameter list for C++),
 * or NULL when name is not mangled (a C name) or does not demangle. */
char *lp_demangle(const char *name);

#endif
