// bench:nn's guest: Silero VAD through wasi-nn. Loads MODEL on the first node, times N calls of compute (inputs
// set once) and N whole frames (3 × set_input, compute, 2 × get_output) from inside the program, then makes HOPS
// round trips to "edge" with the graph loaded (so the runner can see what each hop sends).
// argv: MODEL N HOPS. Prints "compute_us <mean>" and "frame_us <mean>".
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafu.h"
#include "wasi_nn_backend.h"

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

KAFU_DEST(visit_edge, "edge")
KAFU_EXPORT(visit_edge)
int visit_edge(int i) { return i + 1; }

int main(int argc, char **argv) {
  int n = atoi(argv[2]), hops = atoi(argv[3]);
  FILE *f = fopen(argv[1], "rb");
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *model = malloc(size);
  fread(model, 1, size, f);
  fclose(f);
  graph g;
  graph_execution_context c;
  graph_builder b = {model, (uint32_t)size};
  if (wasi_nn_load(&b, 1, onnx, cpu, &g) || wasi_nn_init_execution_context(g, &c)) return 1;
  free(model);
  static float input[576], state[256], out_state[256];
  for (int i = 0; i < 576; i++) input[i] = (float)((i * 7919) % 2000 - 1000) / 4000.0f;
  int64_t sr = 16000;
  uint32_t in_dims[] = {1, 576}, st_dims[] = {2, 1, 128};
  tensor t_in = {{in_dims, 2}, fp32, {0}, {(uint8_t *)input, sizeof input}};
  tensor t_st = {{st_dims, 3}, fp32, {0}, {(uint8_t *)state, sizeof state}};
  tensor t_sr = {{NULL, 0}, i64, {0}, {(uint8_t *)&sr, 8}};
  float p;
  uint32_t w;
  if (wasi_nn_set_input(c, 0, &t_in) || wasi_nn_set_input(c, 1, &t_st) || wasi_nn_set_input(c, 2, &t_sr)) return 1;
  for (int i = 0; i < 50; i++) wasi_nn_compute(c);  // warm-up
  double t0 = now_us();
  for (int i = 0; i < n; i++) wasi_nn_compute(c);
  double t1 = now_us();
  for (int i = 0; i < n; i++) {
    wasi_nn_set_input(c, 0, &t_in);
    wasi_nn_set_input(c, 1, &t_st);
    wasi_nn_set_input(c, 2, &t_sr);
    wasi_nn_compute(c);
    wasi_nn_get_output(c, 0, (uint8_t *)&p, 4, &w);
    wasi_nn_get_output(c, 1, (uint8_t *)out_state, sizeof out_state, &w);
  }
  double t2 = now_us();
  printf("compute_us %.2f\nframe_us %.2f\n", (t1 - t0) / n, (t2 - t1) / n);
  fflush(stdout);
  int visited = 0;
  for (int i = 0; i < hops; i++) visited = visit_edge(visited);
  printf("hops %d\n", visited);
  return 0;
}
