// llava-desk native bridge: module entry point.
//
// Backends: either node-llama-cpp's getLlama() loads them (into the same libggml instance this addon
// is linked against) before any model is loaded, or loadBackends(dir) does, for a variant folder
// that getLlama() chose on an earlier start (the remembered start, src-main/engine/native).
#include <napi.h>

#include "common.h"
#include "context.h"
#include "decode_step.h"
#include "generate.h"
#include "generate_batch.h"
#include "ggml-backend.h"
#include "llama.h"
#include "model.h"
#include "mtmd.h"
#include "mtmd_context.h"

// Only the benchmark build of the addon (native/bench/, never shipped) carries libmtmd's own image
// loader and tokenizer as functions.
#ifdef LLAVA_DESK_IMAGING_BENCH
#include "imaging_bench.h"
#endif

#ifndef LLAVA_DESK_VARIANT
#define LLAVA_DESK_VARIANT "unknown"
#endif

namespace lld {

namespace {

// getBackendInfo(): { variant, devices: [{ name, description, type }], systemInfo }
Napi::Value GetBackendInfo(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("variant", LLAVA_DESK_VARIANT);
    const size_t n = ggml_backend_dev_count();
    Napi::Array devs = Napi::Array::New(env, n);
    for (size_t i = 0; i < n; i++) {
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        Napi::Object d = Napi::Object::New(env);
        d.Set("name", ggml_backend_dev_name(dev));
        d.Set("description", ggml_backend_dev_description(dev));
        const char * type = "other";
        switch (ggml_backend_dev_type(dev)) {
            case GGML_BACKEND_DEVICE_TYPE_CPU: type = "cpu"; break;
            case GGML_BACKEND_DEVICE_TYPE_GPU: type = "gpu"; break;
            case GGML_BACKEND_DEVICE_TYPE_IGPU: type = "igpu"; break;
            case GGML_BACKEND_DEVICE_TYPE_ACCEL: type = "accel"; break;
            default: break;
        }
        d.Set("type", type);
        devs.Set(static_cast<uint32_t>(i), d);
    }
    o.Set("devices", devs);
    o.Set("systemInfo", llama_print_system_info());
    o.Set("defaultMarker", mtmd_default_marker());
    return o;
}

// setLogLevel(level: 'none' | 'error' | 'warn' | 'info' | 'debug'): mtmd/clip log verbosity (stderr)
Napi::Value SetLogLevel(const Napi::CallbackInfo & info) {
    std::string level = ArgString(info, 0, "level");
    int lvl;
    if (level == "none") {
        lvl = 0;
    } else if (level == "error") {
        lvl = 1;
    } else if (level == "warn") {
        lvl = 2;
    } else if (level == "info") {
        lvl = 3;
    } else if (level == "debug") {
        lvl = 4;
    } else {
        Throw(info.Env(), code::kInvalidArgument, "level must be one of none, error, warn, info, debug");
    }
    SetMtmdLogLevel(lvl);
    return info.Env().Undefined();
}

// loadBackends(dir): what getLlama() does for its variant once its binary test has passed: loads
// every ggml backend library in `dir` (the best CPU build for this processor, and the GPU backend
// of a GPU variant) and initialises llama.cpp. Returns getBackendInfo(). Loads at most once per
// process; later calls only report.
Napi::Value LoadBackends(const Napi::CallbackInfo & info) {
    static bool loaded = false;
    std::string dir = ArgString(info, 0, "dir");
    if (!loaded) {
        loaded = true;
        InstallLlamaLogger();
        ggml_backend_load_all_from_path(dir.c_str());
        llama_backend_init();
    }
    return GetBackendInfo(info);
}

Napi::Value LoadModelChecked(const Napi::CallbackInfo & info) {
    return AsPromise(info.Env(), [&]() -> Napi::Value {
        if (ggml_backend_dev_count() == 0) {
            Throw(info.Env(), "NO_BACKENDS",
                  "no ggml backends are loaded: call node-llama-cpp's getLlama() or loadBackends() before loading a model");
        }
        return Model::Load(info);
    });
}

}  // namespace

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
    env.SetInstanceData<AddonData>(new AddonData());
    InstallMtmdLogger();
    Model::Init(env, exports);
    Context::Init(env, exports);
    Bitmap::Init(env, exports);
    Mtmd::Init(env, exports);
    exports.Set("loadModel", Napi::Function::New(env, &LoadModelChecked, "loadModel"));
    exports.Set("generate", Napi::Function::New(env, &Generate, "generate"));
    RegisterGenerateBatch(env, exports);
    RegisterDecodeStep(env, exports);
#ifdef LLAVA_DESK_IMAGING_BENCH
    RegisterImagingBench(env, exports);
#endif
    exports.Set("getBackendInfo", Napi::Function::New(env, &GetBackendInfo, "getBackendInfo"));
    exports.Set("loadBackends", Napi::Function::New(env, &LoadBackends, "loadBackends"));
    exports.Set("setLogLevel", Napi::Function::New(env, &SetLogLevel, "setLogLevel"));
    exports.Set("variant", Napi::String::New(env, LLAVA_DESK_VARIANT));
    exports.Set("abiVersion", Napi::Number::New(env, 4));  // 2: Mtmd.encodeImage; 3: createSampler, decodeStep; 4: loadBackends
    return exports;
}

}  // namespace lld

static Napi::Object InitLlavaDesk(Napi::Env env, Napi::Object exports) { return lld::InitModule(env, exports); }

NODE_API_MODULE(llava_desk_mtmd, InitLlavaDesk)
