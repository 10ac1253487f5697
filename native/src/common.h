// Shared helpers for the llava-desk N-API bridge: typed errors, a promise-returning AsyncWorker base,
// per-environment constructor references, and GGUF pre-validation.
#pragma once

#include <napi.h>

#include <cstdint>
#include <exception>
#include <string>
#include <vector>

namespace lld {

// Error codes surfaced to JS as `err.code`.
namespace code {
inline constexpr const char * kInvalidArgument   = "INVALID_ARGUMENT";
inline constexpr const char * kModelLoadFailed   = "MODEL_LOAD_FAILED";
inline constexpr const char * kMmprojLoadFailed  = "MMPROJ_LOAD_FAILED";
inline constexpr const char * kContextFailed     = "CONTEXT_CREATE_FAILED";
inline constexpr const char * kContextFull       = "CONTEXT_FULL";
inline constexpr const char * kContextBusy       = "CONTEXT_BUSY";
inline constexpr const char * kInUse             = "IN_USE";
inline constexpr const char * kDisposed          = "DISPOSED";
inline constexpr const char * kAborted           = "ABORTED";
inline constexpr const char * kTokenizeFailed    = "TOKENIZE_FAILED";
inline constexpr const char * kImageFailed       = "IMAGE_PROCESSING_FAILED";
inline constexpr const char * kEncodeFailed      = "ENCODE_FAILED";
inline constexpr const char * kDecodeFailed      = "DECODE_FAILED";
inline constexpr const char * kNoLogits          = "NO_LOGITS";
inline constexpr const char * kNative            = "NATIVE_ERROR";
}  // namespace code

// Runs `f` (which returns a Promise); a synchronous Napi::Error becomes a rejected promise, so
// promise-returning functions never throw synchronously.
template <typename F>
Napi::Value AsPromise(Napi::Env env, F && f) {
    try {
        return f();
    } catch (const Napi::Error & e) {
        Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
        d.Reject(e.Value());
        return d.Promise();
    }
}

Napi::Error MakeError(Napi::Env env, const std::string & errCode, const std::string & message);
[[noreturn]] void Throw(Napi::Env env, const std::string & errCode, const std::string & message);

// Error raised inside Execute() (worker thread, no N-API): carries a code.
struct NativeError : std::exception {
    std::string errCode;
    std::string message;
    NativeError(std::string c, std::string m) : errCode(std::move(c)), message(std::move(m)) {}
    const char * what() const noexcept override { return message.c_str(); }
};

// AsyncWorker returning a Promise. Subclasses implement Run() (worker thread; may throw NativeError
// or std::exception) and Result() (JS thread). Errors reject with an Error carrying `code`.
class PromiseWorker : public Napi::AsyncWorker {
  public:
    PromiseWorker(Napi::Env env, const char * name);
    Napi::Promise Promise() { return deferred_.Promise(); }

  protected:
    virtual void Run() = 0;
    virtual Napi::Value Result(Napi::Env env) = 0;
    // JS thread, after success or failure (release busy flags etc.)
    virtual void Finish() {}

    void Execute() final;
    void OnOK() final;
    void OnError(const Napi::Error & e) final;

    Napi::Promise::Deferred deferred_;
    std::string errCode_;
};

// Per-environment data: constructors of the wrapped classes.
struct AddonData {
    Napi::FunctionReference modelCtor;
    Napi::FunctionReference contextCtor;
    Napi::FunctionReference mtmdCtor;
    Napi::FunctionReference bitmapCtor;
};
AddonData & Data(Napi::Env env);

// Wrapped classes can only be constructed from native code (factories), never with `new` from JS.
extern int kConstructToken;
bool IsInternalConstruct(const Napi::CallbackInfo & info);
Napi::External<int> InternalConstructArg(Napi::Env env);

// Validates that `path` is a readable, complete GGUF file (magic, header parses, every tensor's data
// lies within the file). Throws NativeError(errCode, ...) otherwise. Safe on a worker thread.
// Kept although the engine checks the pair in TypeScript first (models/pairing.ts): this is the
// addon's own precondition, on the file as it is when llama.cpp opens it (a file replaced or cut
// between the two reads, or a caller that is not the engine, gets a typed error, not an abort in
// the loader). It reads the header only (no_alloc), so it costs milliseconds per load.
void ValidateGguf(const std::string & path, const char * errCode, const char * what);

// Last error message logged by mtmd/clip on this thread (captured by the log callback).
std::string TakeLastMtmdError();
void InstallMtmdLogger();
// llama.cpp's and ggml's logs through the same filter (getLlama() installs node-llama-cpp's own
// logger instead; without either, llama.cpp prints every debug line).
void InstallLlamaLogger();
void SetMtmdLogLevel(int level);  // 0 none, 1 error, 2 warn, 3 info, 4 debug

// Option readers (JS thread)
int32_t OptInt(const Napi::Object & o, const char * key, int32_t def);
uint32_t OptUint(const Napi::Object & o, const char * key, uint32_t def);
double OptNumber(const Napi::Object & o, const char * key, double def);
bool OptBool(const Napi::Object & o, const char * key, bool def);
Napi::Object OptObject(const Napi::CallbackInfo & info, size_t index);
int32_t ArgInt(const Napi::CallbackInfo & info, size_t index, const char * name);
std::string ArgString(const Napi::CallbackInfo & info, size_t index, const char * name);

}  // namespace lld
