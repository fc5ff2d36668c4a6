/* loupe --version: the version and what this build supports. */
#ifndef LOUPE_UI_VERSION_H
#define LOUPE_UI_VERSION_H

#include <stdio.h>

void version_print(FILE *fp);

#endif
