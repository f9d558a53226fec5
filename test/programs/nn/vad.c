// Voice activity detection with Silero VAD v5 through wasi-nn: the model is loaded on "cloud", the audio is
// analysed frame by frame on "edge" (graph and context cross the hop), the result is reported on "cloud".
// argv: MODEL (a path, or @name for load_by_name) WAV [rank1] [gpu]
//   rank1: pass the sample rate as a [1] tensor instead of a scalar; gpu: load for execution target gpu.
// Prints each frame's speech probability as the bits of its float, so runs can be compared exactly.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafu.h"
#include "wasi_nn_backend.h"

#define FRAME 512
#define CONTEXT 64
#define MAX_FRAMES 4096

static graph g;
static graph_execution_context ctx;
static int16_t *pcm;
static uint32_t nsamples;
static float probs[MAX_FRAMES];
static int rank1;

static void check(wasi_nn_error e, const char *what) {
  if (e != success) {
    printf("%s failed: %d\n", what, e);
    fflush(stdout);
    exit(1);
  }
}

static uint8_t *read_all(const char *path, uint32_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    printf("cannot open %s\n", path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(n);
  if (fread(buf, 1, n, f) != (size_t)n) exit(1);
  fclose(f);
  *size = (uint32_t)n;
  return buf;
}

// 16-bit mono PCM from a WAV file: the "data" chunk.
static void read_wav(const char *path) {
  uint32_t size;
  uint8_t *b = read_all(path, &size);
  for (uint32_t p = 12; p + 8 <= size;) {
    uint32_t len = b[p + 4] | b[p + 5] << 8 | b[p + 6] << 16 | (uint32_t)b[p + 7] << 24;
    if (memcmp(b + p, "data", 4) == 0) {
      pcm = (int16_t *)(b + p + 8);
      nsamples = len / 2;
      return;
    }
    p += 8 + len + (len & 1);
  }
  printf("no data chunk in %s\n", path);
  exit(1);
}

KAFU_DEST(analyse, "edge")
KAFU_EXPORT(analyse)
int analyse(void) {
  static float input[CONTEXT + FRAME];
  static float state[2 * 128];
  static float context[CONTEXT];
  int64_t sr = 16000;
  uint32_t in_dims[2] = {1, CONTEXT + FRAME};
  uint32_t st_dims[3] = {2, 1, 128};
  uint32_t sr_dims[1] = {1};
  int n = 0;
  for (uint32_t off = 0; off + FRAME <= nsamples && n < MAX_FRAMES; off += FRAME) {
    memcpy(input, context, sizeof context);
    for (int i = 0; i < FRAME; i++) input[CONTEXT + i] = pcm[off + i] / 32768.0f;
    memcpy(context, input + FRAME, sizeof context);  // the last 64 samples go before the next frame
    tensor t_in = {.dimensions = {in_dims, 2}, .type = fp32, .data = {(uint8_t *)input, sizeof input}};
    tensor t_st = {.dimensions = {st_dims, 3}, .type = fp32, .data = {(uint8_t *)state, sizeof state}};
    tensor t_sr = {.dimensions = {sr_dims, rank1 ? 1 : 0}, .type = i64, .data = {(uint8_t *)&sr, sizeof sr}};
    check(wasi_nn_set_input(ctx, 0, &t_in), "set_input 0");
    check(wasi_nn_set_input(ctx, 1, &t_st), "set_input 1");
    check(wasi_nn_set_input(ctx, 2, &t_sr), "set_input 2");
    check(wasi_nn_compute(ctx), "compute");
    uint32_t written;
    check(wasi_nn_get_output(ctx, 0, (uint8_t *)&probs[n], sizeof(float), &written), "get_output 0");
    check(wasi_nn_get_output(ctx, 1, (uint8_t *)state, sizeof state, &written), "get_output 1");
    n++;
  }
  return n;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    printf("usage: vad MODEL WAV [rank1] [gpu]\n");
    return 2;
  }
  execution_target target = cpu;
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "rank1") == 0) rank1 = 1;
    if (strcmp(argv[i], "gpu") == 0) target = gpu;
  }
  read_wav(argv[2]);
  if (argv[1][0] == '@') {
    const char *name = argv[1] + 1;
    if (target == gpu) {
      const char *config = "{\"target\":\"gpu\"}";
      check(wasi_nn_load_by_name_with_config(name, strlen(name), config, strlen(config), &g), "load_by_name_with_config");
    } else {
      check(wasi_nn_load_by_name(name, strlen(name), &g), "load_by_name");
    }
  } else {
    uint32_t size;
    uint8_t *model = read_all(argv[1], &size);
    graph_builder b = {model, size};
    check(wasi_nn_load(&b, 1, onnx, target, &g), "load");
    free(model);
  }
  check(wasi_nn_init_execution_context(g, &ctx), "init_execution_context");
  int n = analyse();
  int speaking = 0;
  for (int i = 0; i < n; i++) {
    uint32_t bits;
    memcpy(&bits, &probs[i], 4);
    printf("%d %08x\n", i, bits);
    if (!speaking && probs[i] >= 0.5f) printf("speech starts at %.2f s\n", i * FRAME / 16000.0);
    if (speaking && probs[i] < 0.35f) printf("speech ends at %.2f s\n", i * FRAME / 16000.0);
    speaking = speaking ? probs[i] >= 0.35f : probs[i] >= 0.5f;
  }
  printf("%d frames\n", n);
  return 0;
}
