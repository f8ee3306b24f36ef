/*
** core/random.h: unpredictable bytes for what must not be guessed from
** outside (the vocabulary's hash key, the names of export's temporary
** files), never for training, whose random numbers come from the seed.  No
** SQLite in here.
*/
#ifndef I2V_RANDOM_H
#define I2V_RANDOM_H

#include "core/common.h"

/* Fill buf with n bytes from the system's random source (getrandom, else
** /dev/urandom); when neither answers, from the clock, the process id, a
** counter and an address, mixed. */
void i2v_random_bytes(void *buf, size_t n);

#endif
