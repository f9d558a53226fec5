// A voice-activity service across edge and cloud. The cloud asks the edge device to analyse each recording its
// microphone made; the edge runs Silero VAD (wasi-nn, ONNX Runtime) on the audio where it lies, and only the
// speech segments travel back; the cloud aggregates them into a report.
//
//   npx kafu clang examples/voice-activity/main.c -o examples/voice-activity/main.wasm -O2
//   npx kafu serve --all examples/voice-activity/kafu-config.yaml
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafu.h"
#include "wasi_nn_backend.h"

#define RATE 16000
#define FRAME 512   // Silero VAD v5 at 16 kHz: 512 new samples per step...
#define CONTEXT 64  // ...after the last 64 of the previous step
#define MAX_SEGMENTS 64

typedef struct {
  float start, end;  // seconds
} segment;

typedef struct {
  float seconds;
  int count;
  segment seg[MAX_SEGMENTS];
} analysis;

// The graph and its context live in the library OS: loaded once on the edge, they stay valid while the program
// goes back and forth (the model itself is on every node's disk, so it never crosses the network).
static int loaded;
static graph vad;
static graph_execution_context ctx;

static int16_t *read_pcm(const char *path, uint32_t *samples) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  uint8_t header[44];
  if (fread(header, 1, sizeof header, f) != sizeof header || memcmp(header + 36, "data", 4) != 0) {
    fclose(f);
    return NULL;  // a canonical 16-bit mono WAV is all this device records
  }
  uint32_t bytes = header[40] | header[41] << 8 | header[42] << 16 | (uint32_t)header[43] << 24;
  int16_t *pcm = malloc(bytes);
  *samples = fread(pcm, 1, bytes, f) / 2;
  fclose(f);
  return pcm;
}

// Runs on the edge: the recording never leaves it.
KAFU_DEST(analyse_on_edge, "edge")
KAFU_EXPORT(analyse_on_edge)
int analyse_on_edge(const char *recording, analysis *out) {
  if (!loaded) {
    if (wasi_nn_load_by_name("vad", 3, &vad) != success || wasi_nn_init_execution_context(vad, &ctx) != success) return -1;
    loaded = 1;
  }
  uint32_t n;
  int16_t *pcm = read_pcm(recording, &n);
  if (!pcm) return -2;
  static float input[CONTEXT + FRAME], state[2 * 128];
  memset(input, 0, sizeof input);
  memset(state, 0, sizeof state);
  int64_t rate = RATE;
  uint32_t in_dims[] = {1, CONTEXT + FRAME}, st_dims[] = {2, 1, 128};
  tensor t_in = {.dimensions = {in_dims, 2}, .type = fp32, .data = {(uint8_t *)input, sizeof input}};
  tensor t_st = {.dimensions = {st_dims, 3}, .type = fp32, .data = {(uint8_t *)state, sizeof state}};
  tensor t_sr = {.dimensions = {NULL, 0}, .type = i64, .data = {(uint8_t *)&rate, sizeof rate}};
  int speaking = 0;
  out->count = 0;
  out->seconds = (float)n / RATE;
  for (uint32_t off = 0; off + FRAME <= n; off += FRAME) {
    memmove(input, input + FRAME, CONTEXT * sizeof(float));
    for (int i = 0; i < FRAME; i++) input[CONTEXT + i] = pcm[off + i] / 32768.0f;
    float p;
    uint32_t written;
    if (wasi_nn_set_input(ctx, 0, &t_in) || wasi_nn_set_input(ctx, 1, &t_st) || wasi_nn_set_input(ctx, 2, &t_sr) ||
        wasi_nn_compute(ctx) || wasi_nn_get_output(ctx, 0, (uint8_t *)&p, sizeof p, &written) ||
        wasi_nn_get_output(ctx, 1, (uint8_t *)state, sizeof state, &written)) {
      free(pcm);
      return -3;
    }
    float t = (float)off / RATE;
    // Hysteresis as Silero's own iterator: speech from 0.5, silence below 0.35.
    if (!speaking && p >= 0.5f && out->count < MAX_SEGMENTS) {
      speaking = 1;
      out->seg[out->count++] = (segment){t, out->seconds};
    } else if (speaking && p < 0.35f) {
      speaking = 0;
      out->seg[out->count - 1].end = t;
    }
  }
  free(pcm);
  return 0;
}

int main(int argc, char **argv) {
  printf("voice activity: %d recording(s) to analyse on the edge\n", argc - 1);
  FILE *report = fopen("/report.txt", "w");
  float total = 0, speech = 0;
  for (int i = 1; i < argc; i++) {
    analysis a;
    int err = analyse_on_edge(argv[i], &a);  // moves to the edge and back
    if (err) {
      printf("%s: analysis failed (%d)\n", argv[i], err);
      continue;
    }
    float s = 0;
    for (int k = 0; k < a.count; k++) s += a.seg[k].end - a.seg[k].start;
    printf("%s: %.2f s, speech %.2f s in %d segment(s)\n", argv[i], a.seconds, s, a.count);
    for (int k = 0; k < a.count; k++) fprintf(report, "%s\t%.2f\t%.2f\n", argv[i], a.seg[k].start, a.seg[k].end);
    total += a.seconds;
    speech += s;
  }
  fclose(report);
  printf("total: %.2f s of audio, %.0f%% speech; segments in report.txt (on the cloud)\n", total,
         total > 0 ? 100 * speech / total : 0);
  return 0;
}
