#pragma once

#include <napi.h>

#include <atomic>
#include <mutex>

#include "bitmap.h"
#include "embedding_cache.h"
#include "model.h"
#include "mtmd.h"

namespace lld {

// Multimodal projector context (mtmd_context). Created by `initMtmd(model, mmprojPath, opts)`
// (init_mtmd_worker.cpp); prompts are evaluated by eval_prompt_worker.cpp, single images encoded
// by encode_image_worker.cpp.
class Mtmd : public Napi::ObjectWrap<Mtmd> {
  public:
    static void Init(Napi::Env env, Napi::Object exports);
    static Napi::Value Create(const Napi::CallbackInfo & info);

    explicit Mtmd(const Napi::CallbackInfo & info);
    ~Mtmd() override;

    mtmd_context * ctx = nullptr;
    ModelHandlePtr model;  // the text model this projector feeds
    std::atomic<int> running{0};
    int32_t nEmbdInp = 0;

    // encoding is not thread-safe: one encode at a time per mtmd context
    std::mutex encodeMutex;
    EmbeddingCache cache;

  private:
    void Free();
    void EnsureAlive(Napi::Env env) const;

    Napi::Value GetInfo(const Napi::CallbackInfo & info);
    Napi::Value CreateBitmap(const Napi::CallbackInfo & info);
    Napi::Value EvalPrompt(const Napi::CallbackInfo & info);
    Napi::Value EncodeImage(const Napi::CallbackInfo & info);
    Napi::Value ClearCache(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);
    Napi::Value GetDisposed(const Napi::CallbackInfo & info);
};

}  // namespace lld
