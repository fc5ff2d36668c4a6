# Check units of the ELF reader and the symbolizer.  elf_target is a small
# program with known functions, built PIE and non-PIE, that check_elf opens.
check_PROGRAMS += tests/unit/check_elf tests/unit/check_symbols
TESTS += tests/unit/check_elf tests/unit/check_symbols
tests_unit_check_elf_CPPFLAGS = $(UNIT_CPPFLAGS) \
	-DELF_TARGET_PIE='"$(abs_builddir)/tests/unit/elf_target_pie"' \
	-DELF_TARGET_NOPIE='"$(abs_builddir)/tests/unit/elf_target_nopie"'
tests_unit_check_elf_LDADD = $(UNIT_LIBS)
EXTRA_tests_unit_check_elf_DEPENDENCIES = tests/unit/elf_target_pie tests/unit/elf_target_nopie
tests_unit_check_symbols_CPPFLAGS = $(UNIT_CPPFLAGS) \
	-DELF_TARGET_PIE='"$(abs_builddir)/tests/unit/elf_target_pie"'
EXTRA_tests_unit_check_symbols_DEPENDENCIES = tests/unit/elf_target_pie
tests_unit_check_symbols_LDADD = $(UNIT_LIBS)

check_PROGRAMS += tests/unit/elf_target_pie tests/unit/elf_target_nopie
tests_unit_elf_target_pie_SOURCES = tests/unit/elf_target.c
tests_unit_elf_target_pie_CFLAGS = -O0 -fPIE
tests_unit_elf_target_pie_LDFLAGS = -pie
tests_unit_elf_target_nopie_SOURCES = tests/unit/elf_target.c
tests_unit_elf_target_nopie_CFLAGS = -O0 -fno-pie
tests_unit_elf_target_nopie_LDFLAGS = -no-pie
