dist_noinst_SCRIPTS += tools/setup tools/demo
