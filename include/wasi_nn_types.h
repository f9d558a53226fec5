/*
 * wasi_nn_types.h — types of wasi-nn (witx era, module "wasi_ephemeral_nn"), under the names and numbers of the
 * original Kafu SDK's header, so its programs compile unchanged. Numbering follows the wasi-nn witx.
 */
#ifndef WASI_NN_TYPES_H
#define WASI_NN_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* No prefix, as in the original (the macros let code spell names either way). */
#define WASI_NN_NAME(name) name
#define WASI_NN_ERROR_NAME(name) name
#define WASI_NN_TYPE_NAME(name) name
#define WASI_NN_ENCODING_NAME(name) name
#define WASI_NN_TARGET_NAME(name) name
#define WASI_NN_ERROR_TYPE wasi_nn_error

/* Error codes of every wasi_nn_* call. */
typedef enum {
  WASI_NN_ERROR_NAME(success) = 0,
  WASI_NN_ERROR_NAME(invalid_argument),       /* bad handle, index, shape, size, type, pointer */
  WASI_NN_ERROR_NAME(invalid_encoding),       /* not onnx; for image_to_tensor: not a JPEG/PNG */
  WASI_NN_ERROR_NAME(missing_memory),
  WASI_NN_ERROR_NAME(busy),
  WASI_NN_ERROR_NAME(runtime_error),          /* inference failed */
  WASI_NN_ERROR_NAME(unsupported_operation),  /* e.g. target gpu on a node without CUDA */
  WASI_NN_ERROR_NAME(too_large),              /* output larger than the buffer */
  WASI_NN_ERROR_NAME(not_found),              /* load_by_name: no such model on this node */
  /* WasmEdge's extensions, numbered as there (never returned by Kafu). */
  WASI_NN_ERROR_NAME(end_of_sequence) = 100,
  WASI_NN_ERROR_NAME(context_full) = 101,
  WASI_NN_ERROR_NAME(prompt_tool_long) = 102,
  WASI_NN_ERROR_NAME(model_not_found) = 103,
} WASI_NN_ERROR_TYPE;

/* Size of each dimension, outermost first; rank = size (0 for a scalar). */
typedef struct {
  uint32_t *buf;
  uint32_t size;
} WASI_NN_NAME(tensor_dimensions);

/* Element type. */
typedef enum {
  WASI_NN_TYPE_NAME(fp16) = 0,
  WASI_NN_TYPE_NAME(fp32),
  WASI_NN_TYPE_NAME(fp64),
  WASI_NN_TYPE_NAME(u8),
  WASI_NN_TYPE_NAME(i32),
  WASI_NN_TYPE_NAME(i64),
} WASI_NN_NAME(tensor_type);

/* Elements in row-major order, little-endian; size = product of dimensions × element size. */
typedef struct {
  uint8_t *buf;
  uint32_t size;
} WASI_NN_NAME(tensor_data);

/* witx layout: dimensions at 0, type (one byte) at 8, data at 12; 20 bytes. */
typedef struct {
  WASI_NN_NAME(tensor_dimensions) dimensions;
  uint8_t type;
  uint8_t _pad[3];
  WASI_NN_NAME(tensor_data) data;
} WASI_NN_NAME(tensor);

/* Model bytes (ONNX: exactly one builder holding the .onnx file). */
typedef struct {
  uint8_t *buf;
  uint32_t size;
} WASI_NN_NAME(graph_builder);

typedef struct {
  WASI_NN_NAME(graph_builder) *buf;
  uint32_t size;
} WASI_NN_NAME(graph_builder_array);

/* A loaded model. Handles are library-OS state: they stay valid across migrations. */
typedef uint32_t WASI_NN_NAME(graph);

typedef enum {
  WASI_NN_ENCODING_NAME(openvino) = 0,
  WASI_NN_ENCODING_NAME(onnx),
  WASI_NN_ENCODING_NAME(tensorflow),
  WASI_NN_ENCODING_NAME(pytorch),
  WASI_NN_ENCODING_NAME(tensorflowlite),
  WASI_NN_ENCODING_NAME(ggml),
  WASI_NN_ENCODING_NAME(autodetect),
  WASI_NN_ENCODING_NAME(unknown_backend),
} WASI_NN_NAME(graph_encoding);

typedef enum WASI_NN_NAME(execution_target) {
  WASI_NN_TARGET_NAME(cpu) = 0,
  WASI_NN_TARGET_NAME(gpu),
  WASI_NN_TARGET_NAME(tpu),
} WASI_NN_NAME(execution_target);

/* Inputs set and outputs computed for one graph; also valid across migrations. */
typedef uint32_t WASI_NN_NAME(graph_execution_context);

#ifdef __cplusplus
}
#endif
#endif /* WASI_NN_TYPES_H */
