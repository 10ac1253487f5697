#pragma once

#include <napi.h>

#include <atomic>

#include "llama.h"
#include "model.h"

namespace lld {

// A llama_context over a Model. Created by `createContext(model, opts)`.
// At most one blocking operation (evalPrompt / generate) runs on a context at a time.
class Context : public Napi::ObjectWrap<Context> {
  public:
    static void Init(Napi::Env env, Napi::Object exports);
    static Napi::Value Create(const Napi::CallbackInfo & info);
    static Context * FromValue(Napi::Env env, const Napi::Value & v, const char * what);

    explicit Context(const Napi::CallbackInfo & info);
    ~Context() override;

    llama_context * ctx = nullptr;
    ModelHandlePtr model;  // keeps the llama_model alive as long as this context
    std::atomic<bool> busy{false};
    std::atomic<bool> abortFlag{false};
    bool kvUnified = true;

    void EnsureAlive(Napi::Env env) const;
    // JS thread: marks the context busy (throws CONTEXT_BUSY when already busy) and clears the abort flag.
    void Acquire(Napi::Env env);
    void Release() { busy.store(false); }
    void CheckSeq(Napi::Env env, int32_t seqId) const;

  private:
    void Free();
    static bool AbortCallback(void * data);

    Napi::Value GetInfo(const Napi::CallbackInfo & info);
    Napi::Value KvRemove(const Napi::CallbackInfo & info);
    Napi::Value KvCopy(const Napi::CallbackInfo & info);
    Napi::Value KvKeep(const Napi::CallbackInfo & info);
    Napi::Value KvClear(const Napi::CallbackInfo & info);
    Napi::Value KvPosMax(const Napi::CallbackInfo & info);
    Napi::Value KvPosMin(const Napi::CallbackInfo & info);
    Napi::Value Abort(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value GetDisposed(const Napi::CallbackInfo & info);
    Napi::Value GetBusy(const Napi::CallbackInfo & info);
};

}  // namespace lld
