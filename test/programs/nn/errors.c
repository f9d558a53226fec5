// Wrong uses of wasi-nn and kafu_helper, each printed with the error code it gets: never a trap, never a crash.
// Also converts img.png to a 3x2 tensor with image_to_tensor and prints its floats' bits.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafu_helper.h"
#include "wasi_nn_backend.h"

#define BAD ((void *)0xfffffff0u)

static uint8_t *read_all(const char *path, uint32_t *size) {
  FILE *f = fopen(path, "rb");
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(n);
  fread(buf, 1, n, f);
  fclose(f);
  *size = (uint32_t)n;
  return buf;
}

#define SHOW(what, call) printf("%s: %d\n", what, (int)(call))

int main(void) {
  graph g = 0;
  graph_execution_context c = 0;
  uint8_t junk[16] = "not a model";
  graph_builder junk_b = {junk, sizeof junk};
  SHOW("load junk", wasi_nn_load(&junk_b, 1, onnx, cpu, &g));
  SHOW("load openvino", wasi_nn_load(&junk_b, 1, openvino, cpu, &g));
  SHOW("load tpu", wasi_nn_load(&junk_b, 1, onnx, tpu, &g));
  SHOW("load 0 builders", wasi_nn_load(&junk_b, 0, onnx, cpu, &g));
  SHOW("load bad pointer", wasi_nn_load(BAD, 1, onnx, cpu, &g));
  SHOW("load_by_name unknown", wasi_nn_load_by_name("nope", 4, &g));
  SHOW("init unknown graph", wasi_nn_init_execution_context(99, &c));
  SHOW("compute unknown context", wasi_nn_compute(99));

  uint32_t size;
  uint8_t *model = read_all("vad.onnx", &size);
  graph_builder b = {model, size};
  SHOW("load vad", wasi_nn_load(&b, 1, onnx, cpu, &g));
  SHOW("init", wasi_nn_init_execution_context(g, &c));
  SHOW("init bad pointer", wasi_nn_init_execution_context(g, BAD));

  static float input[576], state[256];
  int64_t sr = 16000, sr2[2] = {16000, 16000};
  uint32_t in_dims[2] = {1, 576}, st_dims[3] = {2, 1, 128}, st_bad[3] = {1, 2, 128}, two[1] = {2};
  tensor t_in = {{in_dims, 2}, fp32, {0}, {(uint8_t *)input, sizeof input}};
  tensor t_st = {{st_dims, 3}, fp32, {0}, {(uint8_t *)state, sizeof state}};
  tensor t_sr = {{NULL, 0}, i64, {0}, {(uint8_t *)&sr, 8}};
  tensor wrong_type = {{in_dims, 2}, i32, {0}, {(uint8_t *)input, sizeof input}};
  tensor wrong_size = {{in_dims, 2}, fp32, {0}, {(uint8_t *)input, 100}};
  tensor wrong_shape = {{st_bad, 3}, fp32, {0}, {(uint8_t *)state, sizeof state}};
  tensor two_rates = {{two, 1}, i64, {0}, {(uint8_t *)sr2, 16}};
  tensor unknown_type = {{in_dims, 2}, 9, {0}, {(uint8_t *)input, sizeof input}};
  tensor bad_data = {{in_dims, 2}, fp32, {0}, {BAD, sizeof input}};
  SHOW("set_input unknown context", wasi_nn_set_input(99, 0, &t_in));
  SHOW("set_input index 5", wasi_nn_set_input(c, 5, &t_in));
  SHOW("set_input wrong type", wasi_nn_set_input(c, 0, &wrong_type));
  SHOW("set_input wrong size", wasi_nn_set_input(c, 0, &wrong_size));
  SHOW("set_input wrong shape", wasi_nn_set_input(c, 1, &wrong_shape));
  SHOW("set_input two rates for a scalar", wasi_nn_set_input(c, 2, &two_rates));
  SHOW("set_input unknown type", wasi_nn_set_input(c, 0, &unknown_type));
  SHOW("set_input bad tensor pointer", wasi_nn_set_input(c, 0, BAD));
  SHOW("set_input bad data pointer", wasi_nn_set_input(c, 0, &bad_data));
  SHOW("compute without inputs", wasi_nn_compute(c));
  uint8_t out[4];
  uint32_t n = 0;
  SHOW("get_output before compute", wasi_nn_get_output(c, 0, out, 4, &n));
  SHOW("set_input 0", wasi_nn_set_input(c, 0, &t_in));
  SHOW("set_input 1", wasi_nn_set_input(c, 1, &t_st));
  SHOW("set_input 2", wasi_nn_set_input(c, 2, &t_sr));
  SHOW("compute", wasi_nn_compute(c));
  SHOW("get_output too small", wasi_nn_get_output(c, 0, out, 2, &n));
  SHOW("get_output index 5", wasi_nn_get_output(c, 5, out, 4, &n));
  SHOW("get_output bad buffer", wasi_nn_get_output(c, 0, BAD, 4, &n));
  SHOW("get_output", wasi_nn_get_output(c, 0, out, 4, &n));
  printf("written %u\n", n);

  static uint8_t pixels[3 * 2 * 3 * 4];
  uint32_t written = 0;
  SHOW("image missing", image_to_tensor("missing.png", 11, 3, 2, pixels, &written));
  SHOW("image not an image", image_to_tensor("vad.onnx", 8, 3, 2, pixels, &written));
  SHOW("image outside the mount", image_to_tensor("../img.png", 10, 3, 2, pixels, &written));
  SHOW("image bad output", image_to_tensor("img.png", 7, 3, 2, BAD, &written));
  SHOW("image zero size", image_to_tensor("img.png", 7, 0, 2, pixels, &written));
  SHOW("image", image_to_tensor("/img.png", 8, 3, 2, pixels, &written));
  printf("written %u\n", written);
  for (uint32_t i = 0; i < written / 4; i++) {
    uint32_t bits;
    memcpy(&bits, pixels + i * 4, 4);
    printf("%08x%c", bits, i % 6 == 5 ? '\n' : ' ');
  }
  return 0;
}
