# Manual pages, written by hand; tests/functional/test_install.py checks
# that every option each command's --help names is in its section.
dist_man_MANS = man/loupe.1
