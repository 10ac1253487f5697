// What the plain libmtmd diagnostics (mtmd-embed.cpp, mtmd-ask.cpp) share: failing with the
// tool's name, a logger that lets only errors through, a table-driven argument loop, and loading
// the model, the projector (on the CPU) and the image as llama-mtmd-cli does. Header-only: each
// tool is one translation unit linked against the patched or the upstream libmtmd.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>

#include "ggml-backend.h"
#include "llama.h"
#include "mtmd-helper.h"
#include "mtmd.h"

namespace tool {

inline const char *& Name() {
    static const char * name = "llava-desk-tool";
    return name;
}

[[noreturn]] inline void Die(const std::string & msg) {
    std::fprintf(stderr, "%s: %s\n", Name(), msg.c_str());
    std::exit(1);
}

inline void QuietLog(ggml_log_level level, const char * text, void *) {
    if (level >= GGML_LOG_LEVEL_ERROR) {
        std::fputs(text, stderr);
    }
}

// One option: its spellings ("-m", "--model") and the string its value goes to.
struct Option {
    std::initializer_list<const char *> names;
    std::string * value;
};

// Fills each option's value from argv; an unknown argument or a missing value ends the program.
inline void ParseArgs(int argc, char ** argv, std::initializer_list<Option> options) {
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        std::string * target = nullptr;
        for (const Option & o : options) {
            for (const char * n : o.names) {
                if (a == n) target = o.value;
            }
        }
        if (target == nullptr) Die("unknown argument " + a);
        if (i + 1 >= argc) Die("missing value after " + a);
        *target = argv[++i];
    }
}

// A whole-number option's value, or `fallback` when it was not given.
inline int IntArg(const std::string & value, int fallback) {
    if (value.empty()) return fallback;
    char * end = nullptr;
    const long n = std::strtol(value.c_str(), &end, 10);
    if (end == value.c_str() || *end != '\0') Die("not a whole number: " + value);
    return static_cast<int>(n);
}

// Quiet logs, every backend loaded, and the model's weights on the CPU.
inline llama_model * LoadModel(const std::string & path) {
    llama_log_set(QuietLog, nullptr);
    mtmd_helper_log_set(QuietLog, nullptr);
    ggml_backend_load_all();
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    llama_model * model = llama_model_load_from_file(path.c_str(), mp);
    if (model == nullptr) Die("cannot load the model " + path);
    return model;
}

// The projector on the CPU, with `params` as the caller set them (threads, warmup, ...).
inline mtmd_context * LoadProjector(const std::string & path, llama_model * model, mtmd_context_params params) {
    params.use_gpu = false;
    params.print_timings = false;
    mtmd_context * ctx = mtmd_init_from_file(path.c_str(), model, params);
    if (ctx == nullptr) Die("cannot load the mmproj " + path);
    return ctx;
}

// The image decoded by libmtmd's helper (stb_image), as llama-mtmd-cli reads it.
inline mtmd_bitmap * LoadImage(mtmd_context * ctx, const std::string & path) {
    mtmd_bitmap * bitmap =
        mtmd_helper_bitmap_init_from_file(ctx, path.c_str(), false, mtmd_helper_init_opt_default()).bitmap;
    if (bitmap == nullptr) Die("cannot read the image " + path);
    return bitmap;
}

}  // namespace tool
