// wasi-nn across checkpoints: cloud loads Silero VAD from its bytes (so the model travels with the program), then
// argv[1] rounds each run one frame on edge, print its speech probability, and nap argv[2] ms there. From the second
// round on edge holds the model, so hops to it carry none: a restarted edge can only resume the program from a
// snapshot that carries the model again.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "kafu.h"
#include "wasi_nn_backend.h"

static graph_execution_context ctx;
static float frame[576], state[256];

static void nap(int ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

KAFU_EXPORT(on_edge) void on_edge(int round, int ms);

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 3;
  int ms = argc > 2 ? atoi(argv[2]) : 100;
  FILE *f = fopen("vad.onnx", "rb");
  if (!f) return 2;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *model = malloc(n);
  fread(model, 1, n, f);
  fclose(f);
  graph g;
  graph_builder b = {model, (uint32_t)n};
  if (wasi_nn_load(&b, 1, onnx, cpu, &g) || wasi_nn_init_execution_context(g, &ctx)) return 3;
  free(model);
  for (int r = 0; r < rounds; r++) {
    printf("round %d on cloud\n", r);
    fflush(stdout);
    on_edge(r, ms);
  }
  printf("done\n");
  return 0;
}

KAFU_DEST(on_edge, "edge")
void on_edge(int round, int ms) {
  for (int i = 0; i < 576; i++) frame[i] = (float)((i * (round + 3)) % 17 - 8) / 64.0f;
  int64_t sr = 16000;
  uint32_t in_dims[2] = {1, 576}, st_dims[3] = {2, 1, 128};
  tensor t_in = {{in_dims, 2}, fp32, {0}, {(uint8_t *)frame, sizeof frame}};
  tensor t_st = {{st_dims, 3}, fp32, {0}, {(uint8_t *)state, sizeof state}};
  tensor t_sr = {{NULL, 0}, i64, {0}, {(uint8_t *)&sr, 8}};
  float prob = -1;
  uint32_t got = 0;
  if (wasi_nn_set_input(ctx, 0, &t_in) || wasi_nn_set_input(ctx, 1, &t_st) || wasi_nn_set_input(ctx, 2, &t_sr) ||
      wasi_nn_compute(ctx) || wasi_nn_get_output(ctx, 0, (uint8_t *)&prob, sizeof prob, &got)) {
    printf("round %d: wasi-nn failed on edge\n", round);
  } else {
    printf("round %d on edge: %.5f\n", round, prob);
  }
  fflush(stdout);
  nap(ms);
}
