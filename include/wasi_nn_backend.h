/*
 * wasi_nn_backend.h — the wasi-nn calls (module "wasi_ephemeral_nn"), as declared by the original Kafu SDK.
 * Kafu's node server runs them with ONNX Runtime; graphs and contexts migrate with the program.
 */
#ifndef WASI_NN_BACKEND_H
#define WASI_NN_BACKEND_H

#include "wasi_nn_types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WASI_NN_IMPORT(name) __attribute__((import_module("wasi_ephemeral_nn"), import_name(name)))

/* Load a model from bytes (encoding onnx; target cpu, or gpu where the node has CUDA). */
WASI_NN_IMPORT("load") wasi_nn_error
wasi_nn_load(graph_builder *builder_array_buf, int builder_array_size, graph_encoding encoding,
             execution_target target, graph *g);

/* Load a model the node's config names (app.nn.models); not_found where this node has none by that name. */
WASI_NN_IMPORT("load_by_name") wasi_nn_error
wasi_nn_load_by_name(const char *name, uint32_t namelen, graph *g);

/* The same; config is empty or JSON such as {"target":"gpu"}. */
WASI_NN_IMPORT("load_by_name_with_config") wasi_nn_error
wasi_nn_load_by_name_with_config(const char *name, uint32_t namelen, const char *config, uint32_t config_len,
                                 graph *g);

WASI_NN_IMPORT("init_execution_context") wasi_nn_error
wasi_nn_init_execution_context(graph g, graph_execution_context *exec_ctx);

/* index: the model's input number, in the order the model declares its inputs. */
WASI_NN_IMPORT("set_input") wasi_nn_error
wasi_nn_set_input(graph_execution_context exec_ctx, uint32_t index, tensor *input_tensor);

WASI_NN_IMPORT("compute") wasi_nn_error
wasi_nn_compute(graph_execution_context exec_ctx);

/* Copies output `index`'s bytes; too_large if they do not fit in output_buffer_max_size. */
WASI_NN_IMPORT("get_output") wasi_nn_error
wasi_nn_get_output(graph_execution_context exec_ctx, uint32_t index, uint8_t *output_buffer,
                   uint32_t output_buffer_max_size, uint32_t *output_buffer_size);

#undef WASI_NN_IMPORT

#ifdef __cplusplus
}
#endif
#endif /* WASI_NN_BACKEND_H */
