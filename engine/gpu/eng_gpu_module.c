/*
 * eng_gpu_module.c — the one symbol libparlab-gpu.so exports: a table of
 * the CUDA backend's functions, which the loader in the parlab binaries
 * (eng_gpu_load.c) fetches with dlsym. Everything else in the module is
 * hidden, so its own calls bind inside it and never to the trampolines of
 * the same names in the program that loaded it.
 */
#include "eng_gpu_funcs.h"

#define ENTRY(ret, name, params, args) eng_gpu_##name,
#define ENTRYV(name, params, args) eng_gpu_##name,
static const eng_gpu_module table = {ENG_GPU_MODULE_ABI, ENG_GPU_FUNCS(ENTRY, ENTRYV)};

__attribute__((visibility("default"))) const eng_gpu_module *eng_gpu_module_table(void);
const eng_gpu_module *eng_gpu_module_table(void) { return &table; }
