/*
** bench/trainer.c: times the trainer alone on a corpus file, for tuning the
** kernels without SQLite, Python or the model write in the measurement.
**
** Usage: build/bench_trainer CORPUS REPEATS option=value ...
** Besides the training options, isa=sse2 (or avx2, avx512) runs the kernels
** of that instruction-set level instead of the CPU's best.
** CORPUS is written by `bench/bench.py dump DB TABLE CORPUS`: uint64 nvocab,
** nseq, ntokens, then counts[nvocab] (uint64), starts[nseq+1] (uint64),
** tokens[ntokens] (uint32), little-endian.  Prints, per repeat, wall and CPU
** seconds, tokens per second and the last epoch's loss; then the best.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/train.h"
#include "core/vec.h"

static double now(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s CORPUS REPEATS option=value ...\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  uint64_t hdr[3];
  if (!f || fread(hdr, sizeof(uint64_t), 3, f) != 3) {
    fprintf(stderr, "bench_trainer: cannot read %s\n", argv[1]);
    return 1;
  }
  uint64_t *counts = malloc(hdr[0] * 8), *starts = malloc((hdr[1] + 1) * 8);
  uint32_t *tokens = malloc(hdr[2] * 4);
  if (!counts || !starts || !tokens ||
      fread(counts, 8, hdr[0], f) != hdr[0] ||
      fread(starts, 8, hdr[1] + 1, f) != hdr[1] + 1 ||
      fread(tokens, 4, hdr[2], f) != hdr[2]) {
    fprintf(stderr, "bench_trainer: short file %s\n", argv[1]);
    return 1;
  }
  fclose(f);
  i2v_options o;
  char err[512];
  i2v_options_init(&o, 2, 0);
  for (int i = 3; i < argc; i++) {
    if (strncmp(argv[i], "isa=", 4) == 0) {
      for (o.isa = I2V_ISA_LEVELS - 1; o.isa > 0; o.isa--)
        if (strcmp(argv[i] + 4, i2v_isa_name(o.isa)) == 0) break;
      if (strcmp(argv[i] + 4, i2v_isa_name(o.isa)) != 0) {
        fprintf(stderr, "bench_trainer: isa is sse2, avx2 or avx512\n");
        return 2;
      }
      continue;
    }
    if (i2v_options_set(&o, argv[i], "bench_trainer", &i2v_libc_alloc, err, sizeof(err)) !=
        I2V_OK) {
      fprintf(stderr, "%s\n", err);
      return 2;
    }
  }
  i2v_corpus c = {.tokens = tokens, .starts = starts, .nseq = hdr[1], .ntokens = hdr[2]};
  int reps = atoi(argv[2]);
  double best = 1e30, best_cpu = 1e30;
  for (int r = 0; r < reps; r++) {
    i2v_trained t;
    double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    if (i2v_train(&o, &i2v_libc_alloc, counts, (uint32_t)hdr[0], &c, NULL, NULL,
                  NULL, &t, err, sizeof(err)) != I2V_OK) {
      fprintf(stderr, "bench_trainer: %s\n", err);
      return 1;
    }
    double w1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
    printf("wall %.3f cpu %.3f  %.0f tokens/s  loss %.10g\n", w1 - w0, c1 - c0,
           (double)hdr[2] * o.epochs / (w1 - w0), t.epoch_loss[o.epochs - 1]);
    if (w1 - w0 < best) best = w1 - w0;
    if (c1 - c0 < best_cpu) best_cpu = c1 - c0;
    i2v_trained_free(&t, &i2v_libc_alloc);
  }
  printf("best wall %.3f cpu %.3f  %.0f tokens/s\n", best, best_cpu,
         (double)hdr[2] * o.epochs / best);
  i2v_options_free(&o, &i2v_libc_alloc);
  free(counts);
  free(starts);
  free(tokens);
  return 0;
}
