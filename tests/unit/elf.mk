# Check units of this area: check_PROGRAMS += tests/unit/check_X; TESTS += tests/unit/check_X
