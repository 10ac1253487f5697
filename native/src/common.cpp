#include "common.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sys/stat.h>

#include "ggml.h"
#include "gguf.h"
#include "llama.h"
#include "mtmd-helper.h"
#include "mtmd.h"

namespace lld {

Napi::Error MakeError(Napi::Env env, const std::string & errCode, const std::string & message) {
    Napi::Error err = Napi::Error::New(env, message);
    err.Set("code", Napi::String::New(env, errCode));
    return err;
}

void Throw(Napi::Env env, const std::string & errCode, const std::string & message) {
    throw MakeError(env, errCode, message);
}

PromiseWorker::PromiseWorker(Napi::Env env, const char * name)
    : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}

void PromiseWorker::Execute() {
    try {
        Run();
    } catch (const NativeError & e) {
        errCode_ = e.errCode;
        SetError(e.message);
    } catch (const std::exception & e) {
        errCode_ = code::kNative;
        SetError(e.what());
    } catch (...) {
        errCode_ = code::kNative;
        SetError("unknown native exception");
    }
}

void PromiseWorker::OnOK() {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Finish();
    try {
        deferred_.Resolve(Result(env));
    } catch (const Napi::Error & e) {
        deferred_.Reject(e.Value());
    }
}

void PromiseWorker::OnError(const Napi::Error & e) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Finish();
    deferred_.Reject(MakeError(env, errCode_.empty() ? code::kNative : errCode_, e.Message()).Value());
}

AddonData & Data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

int kConstructToken = 0;

bool IsInternalConstruct(const Napi::CallbackInfo & info) {
    return info.Length() >= 1 && info[0].IsExternal() && info[0].As<Napi::External<int>>().Data() == &kConstructToken;
}

Napi::External<int> InternalConstructArg(Napi::Env env) { return Napi::External<int>::New(env, &kConstructToken); }

void ValidateGguf(const std::string & path, const char * errCode, const char * what) {
    struct stat st {};
    if (path.empty()) {
        throw NativeError(errCode, std::string(what) + " path is empty");
    }
    if (stat(path.c_str(), &st) != 0) {
        throw NativeError(errCode, std::string(what) + " file not found: " + path);
    }
    if (!S_ISREG(st.st_mode)) {
        throw NativeError(errCode, std::string(what) + " is not a regular file: " + path);
    }
    const uint64_t fileSize = static_cast<uint64_t>(st.st_size);
    {
        std::ifstream f(path, std::ios::binary);
        char magic[4] = {0, 0, 0, 0};
        if (!f || !f.read(magic, 4)) {
            throw NativeError(errCode, std::string(what) + " file is unreadable or too small to be GGUF: " + path);
        }
        if (std::memcmp(magic, "GGUF", 4) != 0) {
            throw NativeError(errCode, std::string(what) + " file is not a GGUF file (bad magic): " + path);
        }
    }
    gguf_init_params params{};
    params.no_alloc = true;
    params.ctx = nullptr;
    gguf_context * gctx = gguf_init_from_file(path.c_str(), params);
    if (gctx == nullptr) {
        throw NativeError(errCode, std::string(what) + " file has an invalid or truncated GGUF header: " + path);
    }
    const uint64_t dataOffset = gguf_get_data_offset(gctx);
    const int64_t nTensors = gguf_get_n_tensors(gctx);
    std::string bad;
    for (int64_t i = 0; i < nTensors; i++) {
        const uint64_t end = dataOffset + gguf_get_tensor_offset(gctx, i) + gguf_get_tensor_size(gctx, i);
        if (end > fileSize) {
            bad = gguf_get_tensor_name(gctx, i);
            break;
        }
    }
    gguf_free(gctx);
    if (!bad.empty()) {
        throw NativeError(errCode, std::string(what) + " file is truncated (tensor '" + bad + "' lies past the end of the file): " + path);
    }
}

// ---- mtmd logging -------------------------------------------------------------------------------

static thread_local std::string tlsLastError;
static std::atomic<int> gLogLevel{1};

static void MtmdLogCallback(ggml_log_level level, const char * text, void * /*user*/) {
    if (text == nullptr) {
        return;
    }
    int lvl;
    switch (level) {
        case GGML_LOG_LEVEL_ERROR: lvl = 1; break;
        case GGML_LOG_LEVEL_WARN: lvl = 2; break;
        case GGML_LOG_LEVEL_INFO: lvl = 3; break;
        case GGML_LOG_LEVEL_DEBUG: lvl = 4; break;
        default: lvl = 3; break;  // CONT / NONE: treat as info
    }
    if (lvl == 1) {
        std::string msg(text);
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
            msg.pop_back();
        }
        if (!msg.empty()) {
            tlsLastError = msg;
        }
    }
    if (lvl <= gLogLevel.load()) {
        std::fputs(text, stderr);
    }
}

std::string TakeLastMtmdError() {
    std::string s;
    s.swap(tlsLastError);
    return s;
}

void InstallMtmdLogger() { mtmd_helper_log_set(MtmdLogCallback, nullptr); }

void InstallLlamaLogger() { llama_log_set(MtmdLogCallback, nullptr); }

void SetMtmdLogLevel(int level) { gLogLevel.store(level); }

// ---- option readers -----------------------------------------------------------------------------

static double NumberOrThrow(const Napi::Object & o, const char * key) {
    Napi::Value v = o.Get(key);
    if (!v.IsNumber()) {
        Throw(o.Env(), code::kInvalidArgument, std::string("option '") + key + "' must be a number");
    }
    double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d)) {
        Throw(o.Env(), code::kInvalidArgument, std::string("option '") + key + "' must be finite");
    }
    return d;
}

int32_t OptInt(const Napi::Object & o, const char * key, int32_t def) {
    if (!o.Has(key) || o.Get(key).IsUndefined()) {
        return def;
    }
    double d = NumberOrThrow(o, key);
    if (d != std::floor(d) || d < std::numeric_limits<int32_t>::min() || d > std::numeric_limits<int32_t>::max()) {
        Throw(o.Env(), code::kInvalidArgument, std::string("option '") + key + "' must be a 32-bit integer");
    }
    return static_cast<int32_t>(d);
}

uint32_t OptUint(const Napi::Object & o, const char * key, uint32_t def) {
    if (!o.Has(key) || o.Get(key).IsUndefined()) {
        return def;
    }
    double d = NumberOrThrow(o, key);
    if (d != std::floor(d) || d < 0 || d > std::numeric_limits<uint32_t>::max()) {
        Throw(o.Env(), code::kInvalidArgument, std::string("option '") + key + "' must be a non-negative integer");
    }
    return static_cast<uint32_t>(d);
}

double OptNumber(const Napi::Object & o, const char * key, double def) {
    if (!o.Has(key) || o.Get(key).IsUndefined()) {
        return def;
    }
    return NumberOrThrow(o, key);
}

bool OptBool(const Napi::Object & o, const char * key, bool def) {
    if (!o.Has(key) || o.Get(key).IsUndefined()) {
        return def;
    }
    Napi::Value v = o.Get(key);
    if (!v.IsBoolean()) {
        Throw(o.Env(), code::kInvalidArgument, std::string("option '") + key + "' must be a boolean");
    }
    return v.As<Napi::Boolean>().Value();
}

Napi::Object OptObject(const Napi::CallbackInfo & info, size_t index) {
    if (info.Length() <= index || info[index].IsUndefined() || info[index].IsNull()) {
        return Napi::Object::New(info.Env());
    }
    if (!info[index].IsObject()) {
        Throw(info.Env(), code::kInvalidArgument, "options must be an object");
    }
    return info[index].As<Napi::Object>();
}

int32_t ArgInt(const Napi::CallbackInfo & info, size_t index, const char * name) {
    if (info.Length() <= index || !info[index].IsNumber()) {
        Throw(info.Env(), code::kInvalidArgument, std::string(name) + " must be a number");
    }
    double d = info[index].As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d != std::floor(d) || d < std::numeric_limits<int32_t>::min() ||
        d > std::numeric_limits<int32_t>::max()) {
        Throw(info.Env(), code::kInvalidArgument, std::string(name) + " must be a 32-bit integer");
    }
    return static_cast<int32_t>(d);
}

std::string ArgString(const Napi::CallbackInfo & info, size_t index, const char * name) {
    if (info.Length() <= index || !info[index].IsString()) {
        Throw(info.Env(), code::kInvalidArgument, std::string(name) + " must be a string");
    }
    return info[index].As<Napi::String>().Utf8Value();
}

}  // namespace lld
