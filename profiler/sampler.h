#ifndef LOUPE_SAMPLER_H
#define LOUPE_SAMPLER_H
#endif
